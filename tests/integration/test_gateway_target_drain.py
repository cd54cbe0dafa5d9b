"""On ECS behind an ALB the gateway drains when its target is deregistered, not at SIGTERM
(which comes only after the ALB has cut every socket): the adapter against moto's elbv2,
and a served `atelier serve gateway` whose task metadata endpoint is a loopback server and
whose balancer is moto."""

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from adapters.aws.elb_target_health import ElbTargetHealth, ecs_task_ipv4
from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.integration.test_gateway_drain import (
    closed_at,
    exited_within,
    gateway_process,
    open_sockets,
    process_env,
    refusal,
)
from tests.integration.test_gateway_drain import (
    gateway as drain_gateway,
)
from tests.integration.test_gateway_redis import wait_ready
from tests.support.ecs_metadata import TaskMetadata
from tests.support.gateway import CountingOrigin, claims, new_key, sign
from tests.support.server import serving

pytestmark = pytest.mark.moto

TASK_IP = "10.0.1.23"


@asynccontextmanager
async def target_group(aws: Aws, port: int) -> AsyncIterator[str]:
    async with aws.client("ec2") as ec2:
        vpc = (await ec2.create_vpc(CidrBlock="10.0.0.0/16"))["Vpc"]["VpcId"]
    async with aws.client("elbv2") as elb:
        group = (await elb.create_target_group(
            Name="atelier-gateway", Protocol="HTTP", Port=port, VpcId=vpc,
            TargetType="ip"))["TargetGroups"][0]["TargetGroupArn"]
    yield group


async def register(aws: Aws, group: str, port: int, *, registered: bool) -> None:
    async with aws.client("elbv2") as elb:
        call = elb.register_targets if registered else elb.deregister_targets
        await call(TargetGroupArn=group, Targets=[{"Id": TASK_IP, "Port": port}])


async def test_the_adapter_reads_its_target_s_state_from_the_balancer(aws: Aws) -> None:
    async with (serving(TaskMetadata(TASK_IP)) as metadata_url,
                target_group(aws, 8000) as group, aws.client("elbv2") as elb):
        target = ElbTargetHealth(elb, group, 8000, ecs_task_ipv4(f"{metadata_url}/v4/abc"))
        assert await target.state() is None  # not registered yet
        await register(aws, group, 8000, registered=True)
        assert await target.state() not in (None, "draining")
        await register(aws, group, 8000, registered=False)
        # AWS says `draining` for the deregistration delay; moto forgets the target at once
        assert await target.state() in (None, "draining")
        missing = ElbTargetHealth(elb, group + "0", 8000, ecs_task_ipv4(metadata_url))
        with pytest.raises(Exception, match="TargetGroupNotFound"):
            await missing.state()


async def test_the_adapter_fails_without_the_task_s_address() -> None:
    async with serving(TaskMetadata(TASK_IP)) as metadata_url:
        with pytest.raises(httpx.HTTPStatusError):
            await ecs_task_ipv4(f"{metadata_url}/v4/abc/nothing-here?")()


async def test_a_deregistered_target_drains_the_served_gateway_at_a_pace_without_a_signal(
    aws: Aws, tmp_path: Path
) -> None:
    key, metadata = new_key(), TaskMetadata(TASK_IP)
    async with (serving(CountingOrigin(keys=[key])) as origin_url,
                serving(metadata) as metadata_url, target_group(aws, 8000) as group):
        await register(aws, group, 8000, registered=True)
        env = process_env(
            origin_url, tmp_path, 2.0, ATELIER_GATEWAY_TARGET_GROUP_ARN=group,
            ATELIER_GATEWAY_TARGET_PORT="8000", ATELIER_GATEWAY_TARGET_HEALTH_POLL_SECONDS="0.2",
            ECS_CONTAINER_METADATA_URI_V4=f"{metadata_url}/v4/task-0",
            ATELIER_AWS_ENDPOINT_URL=aws.endpoint_url, ATELIER_AWS_REGION=aws.region,
            AWS_ACCESS_KEY_ID=DUMMY_KEY, AWS_SECRET_ACCESS_KEY=DUMMY_KEY,
            AWS_EC2_METADATA_DISABLED="true")
        with gateway_process(env, tmp_path) as (address, process, log_path):
            await wait_ready(address)
            url = f"ws://{address}/v1/realtime"
            sockets = await open_sockets(url, key, 30)
            await asyncio.sleep(0.6)  # a few polls: registered, healthy; nothing drains
            assert await refusal(url, sign(key, claims())) == (101, None)
            assert metadata.asked >= 1
            start = time.monotonic()
            closes = asyncio.gather(*(closed_at(ws, start) for ws in sockets))
            await register(aws, group, 8000, registered=False)
            await asyncio.sleep(0.8)
            assert await refusal(url, sign(key, claims())) == (503, "1")
            async with httpx.AsyncClient(trust_env=False) as http:
                assert (await http.get(f"http://{address}/readyz")).status_code == 503
            times = sorted(t for t, _ in await asyncio.wait_for(closes, 15))
            assert {code for _, code in await closes} == {1012}
            # the first within a poll (0.2 s) and a slice, the last near the end of the 2 s
            assert times[0] < 1.0 and times[-1] - times[0] > 1.4, times
            assert process.poll() is None, "the balancer drains the node; SIGTERM stops it"
            process.send_signal(signal.SIGTERM)
            assert await exited_within(process, 20) is not None
        log = log_path.read_text()
        assert "target deregistered from the load balancer: draining" in log, log


async def test_a_drain_under_way_is_waited_for_not_started_again() -> None:
    """The balancer's drain, then SIGTERM's: the second keeps the first one's pace; a drain
    over 0 s (the shutdown's) hurries it."""
    async with drain_gateway() as (url, key, node):
        sockets = await open_sockets(url, key, 20)
        start = time.monotonic()
        closes = asyncio.gather(*(closed_at(ws, start) for ws in sockets))
        first = asyncio.create_task(node.drain(over=2.0))
        await asyncio.sleep(1.0)
        await asyncio.wait_for(node.drain(over=2.0), 5)
        assert time.monotonic() - start < 2.8  # the first one's end, not 1 + 2 s
        assert max(t for t, _ in await closes) < 2.8
        await first
        assert (await refusal(url, sign(key, claims())))[0] == 503
    async with drain_gateway() as (url, key, node):
        sockets = await open_sockets(url, key, 10)
        start = time.monotonic()
        first = asyncio.create_task(node.drain(over=60.0))
        await asyncio.sleep(0.3)
        await asyncio.wait_for(node.drain(), 5)
        await asyncio.wait_for(first, 5)
        assert time.monotonic() - start < 3.0
