"""Two gateway processes (`atelier serve gateway`) sharing the real Redis bus.

A message published once reaches sockets on both; a killed subscription makes /readyz
fail until the node has resubscribed, after which delivery resumes; SIGTERM drains with
close code 1012; each node receives only the messages of the users whose sockets it holds.
"""

import asyncio
import contextlib
import os
import secrets
import signal
import socket as sockets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio
from websockets.asyncio.client import connect

from adapters.redis.bus import RedisRealtimeBus
from tests.support.gateway import ISSUER, CountingOrigin, claims, new_key, next_frame, sign
from tests.support.server import serving

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def gateway_process(
    env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    log = (tmp_path / f"gateway-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli.main", "serve", "gateway",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


async def wait_ready(address: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://{address}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"gateway at {address} never became ready")


@contextlib.asynccontextmanager
async def two_gateways(
    redis_url: str, tmp_path: Path, prefix: str
) -> AsyncIterator[tuple[list[tuple[str, subprocess.Popen[bytes]]], object]]:
    key = new_key()
    origin = CountingOrigin(keys=[key])
    async with serving(origin) as origin_url:
        env = {
            "ATELIER_REDIS_URL": redis_url, "ATELIER_ISSUER": ISSUER,
            "ATELIER_JWKS_URL": f"{origin_url}/.well-known/jwks.json",
            "ATELIER_REALTIME_BUS_PREFIX": prefix, "ATELIER_GATEWAY_BUS_BACKOFF_SECONDS": "1.0",
            "ATELIER_DATA_DIR": str(tmp_path), "ATELIER_LOG_LEVEL": "WARNING",
        }
        with gateway_process(env, tmp_path) as first, gateway_process(env, tmp_path) as second:
            await asyncio.gather(wait_ready(first[0]), wait_ready(second[0]))
            yield [first, second], key


async def test_one_publish_reaches_both_nodes_and_a_killed_subscription_recovers(
    redis_url: str, redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(4)}:"
    bus = RedisRealtimeBus(redis_client, prefix=prefix)
    async with two_gateways(redis_url, tmp_path, prefix) as (nodes, key):
        token = sign(key, claims("alice"))  # type: ignore[arg-type]
        async with (
            connect(f"ws://{nodes[0][0]}/v1/realtime?token={token}") as on_first,
            connect(f"ws://{nodes[1][0]}/v1/realtime?token={token}") as on_second,
        ):
            await bus.publish("user:alice", {"n": 1})
            for ws in (on_first, on_second):
                assert await next_frame(ws) == {"channel": "user:alice", "data": {"n": 1}}

            pids = {str(process.pid) for _, process in nodes}
            subscribers = [c for c in await redis_client.client_list(_type="pubsub")
                           if c.get("name", "").removeprefix("atelier-bus-") in pids]
            assert len(subscribers) == 2
            # Only our two nodes' subscriptions: `CLIENT KILL TYPE pubsub` would also cut
            # every other pub/sub client of this shared server.
            for client in subscribers:
                await redis_client.execute_command("CLIENT", "KILL", "ID", client["id"])

            statuses: list[int] = []
            async with httpx.AsyncClient(trust_env=False) as http:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    statuses.append((await http.get(f"http://{nodes[0][0]}/readyz")).status_code)
                    if 503 in statuses and statuses[-1] == 200:
                        break
                    await asyncio.sleep(0.05)
            assert 503 in statuses and statuses[-1] == 200, statuses
            await wait_ready(nodes[1][0])

            await bus.publish("broadcast", {"n": 2})
            for ws in (on_first, on_second):
                assert await next_frame(ws) == {"channel": "broadcast", "data": {"n": 2}}


async def test_sigterm_drains_with_1012_and_revocation_reaches_every_node(
    redis_url: str, redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(4)}:"
    bus = RedisRealtimeBus(redis_client, prefix=prefix)
    async with two_gateways(redis_url, tmp_path, prefix) as (nodes, key):
        token = sign(key, claims("bob"))  # type: ignore[arg-type]
        first = await connect(f"ws://{nodes[0][0]}/v1/realtime?token={token}")
        second = await connect(f"ws://{nodes[1][0]}/v1/realtime?token={token}")

        nodes[1][1].send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait_closed(), 10)
        assert second.close_code == 1012
        # uvicorn re-raises SIGTERM once its graceful shutdown is done.
        assert nodes[1][1].wait(15) in (0, -signal.SIGTERM)

        await bus.publish("internal:keys", {"type": "key.revoked", "kid": key.kid})  # type: ignore[attr-defined]
        await asyncio.wait_for(first.wait_closed(), 5)
        assert first.close_code == 1008
        with pytest.raises(Exception) as refused:
            await connect(f"ws://{nodes[0][0]}/v1/realtime?token={token}")
        assert refused.value.response.status_code == 403  # type: ignore[attr-defined]


async def test_each_node_receives_only_the_messages_of_the_users_it_holds(
    redis_url: str, redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(4)}:"
    bus = RedisRealtimeBus(redis_client, prefix=prefix)

    async def receivers(channel: str) -> int:
        """How many subscriptions Redis sends `channel` to (the nodes that receive it)."""
        [(_, count)] = await redis_client.pubsub_numsub(prefix + channel)
        return int(count)

    async with two_gateways(redis_url, tmp_path, prefix) as (nodes, key):
        ada = sign(key, claims("ada"))  # type: ignore[arg-type]
        bob = sign(key, claims("bob"))  # type: ignore[arg-type]
        async with (
            connect(f"ws://{nodes[0][0]}/v1/realtime?token={ada}") as ada_on_first,
            connect(f"ws://{nodes[1][0]}/v1/realtime?token={bob}") as bob_on_second,
        ):
            # Published the instant the handshake completed: the node followed the user's
            # channel before accepting, so nothing is lost.
            await bus.publish("user:ada", {"n": 1})
            await bus.publish("user:bob", {"n": 2})
            assert await next_frame(ada_on_first) == {"channel": "user:ada", "data": {"n": 1}}
            assert await next_frame(bob_on_second) == {"channel": "user:bob", "data": {"n": 2}}
            # Redis sends each user's messages to the one node holding that user...
            assert await receivers("user:ada") == 1 and await receivers("user:bob") == 1
            pids = {str(process.pid) for _, process in nodes}
            subscribers = [c for c in await redis_client.client_list(_type="pubsub")
                           if c.get("name", "").removeprefix("atelier-bus-") in pids]
            assert [int(c["psub"]) for c in subscribers] == [0, 0]  # ...and nothing else
            # ...while what every node needs reaches both.
            for channel in ("broadcast", "internal:keys", "internal:auth"):
                assert await receivers(channel) == 2
            await bus.publish("broadcast", {"n": 3})
            for ws in (ada_on_first, bob_on_second):
                assert await next_frame(ws) == {"channel": "broadcast", "data": {"n": 3}}

            # A second socket of ada elsewhere: her messages now go to both nodes.
            async with connect(f"ws://{nodes[1][0]}/v1/realtime?token={ada}") as ada_on_second:
                assert await receivers("user:ada") == 2
                await bus.publish("user:ada", {"n": 4})
                for ws in (ada_on_first, ada_on_second):
                    assert await next_frame(ws) == {"channel": "user:ada", "data": {"n": 4}}
            deadline = time.monotonic() + 5
            while await receivers("user:ada") != 1:  # her last socket there left
                assert time.monotonic() < deadline, "node 2 still follows ada"
                await asyncio.sleep(0.02)
        deadline = time.monotonic() + 5
        while await receivers("user:ada") + await receivers("user:bob"):
            assert time.monotonic() < deadline, "a node still follows a user who left"
            await asyncio.sleep(0.02)
