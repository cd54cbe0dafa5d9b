"""A gateway on ECS behind an ALB drains when its own target starts draining (or is gone,
having been registered), once; never because of an error or a target not registered yet."""

import asyncio
from typing import Any

import pytest

from adapters.memory.target_health import InMemoryTargetHealth
from entrypoints.edge_gateway.target_watch import drain_when_deregistered, watching_target
from entrypoints.wiring.builders import build_target_health
from entrypoints.wiring.resources import AwsClients
from entrypoints.wiring.settings import Settings

EVERY = 0.01


class Drains:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> None:
        self.count += 1


async def polls(target: InMemoryTargetHealth, at_least: int) -> None:
    start = target.asked
    while target.asked < start + at_least:
        await asyncio.sleep(EVERY / 2)


async def test_draining_starts_the_drain_once() -> None:
    target, drains = InMemoryTargetHealth("initial"), Drains()
    async with watching_target(target, drains, EVERY):
        await polls(target, 2)
        target.set("healthy")
        await polls(target, 2)
        assert drains.count == 0
        target.set("draining")
        await polls(target, 1)
        await asyncio.sleep(EVERY * 5)
        asked = target.asked
        await asyncio.sleep(EVERY * 5)
        assert target.asked == asked  # done watching
    assert drains.count == 1


async def test_gone_after_having_been_registered_starts_the_drain() -> None:
    target, drains = InMemoryTargetHealth("healthy"), Drains()
    watch = asyncio.create_task(drain_when_deregistered(target, drains, EVERY))
    await polls(target, 2)
    target.set(None)  # what moto shows at once on deregistration
    await asyncio.wait_for(watch, 2)
    assert drains.count == 1


async def test_not_registered_yet_at_start_up_never_drains() -> None:
    target, drains = InMemoryTargetHealth(None), Drains()
    async with watching_target(target, drains, EVERY):
        await polls(target, 5)
        assert drains.count == 0
        target.set("healthy")
        await polls(target, 2)
        target.set("draining")
        await polls(target, 1)
        await asyncio.sleep(EVERY * 3)
    assert drains.count == 1


async def test_errors_never_drain_and_space_the_questions_out() -> None:
    target, drains = InMemoryTargetHealth("healthy"), Drains()
    async with watching_target(target, drains, EVERY):
        await polls(target, 1)
        target.fail(ConnectionError("the API is unreachable"))
        await asyncio.sleep(EVERY * 12)
        # backing off: 2x, 4x, 8x... the interval, not one question every interval
        assert target.asked < 8
        assert drains.count == 0
        target.fail(None)
        target.set("draining")
        await asyncio.sleep(EVERY * 40)
    assert drains.count == 1


async def test_errors_before_it_was_ever_seen_are_not_a_deregistration() -> None:
    target, drains = InMemoryTargetHealth(None), Drains()
    target.fail(TimeoutError("metadata endpoint"))
    watch = asyncio.create_task(drain_when_deregistered(target, drains, EVERY, EVERY * 2))
    await asyncio.sleep(EVERY * 10)
    target.fail(None)  # then answers: not registered (yet)
    await polls(target, 3)
    assert drains.count == 0 and not watch.done()
    watch.cancel()


async def test_nothing_is_watched_without_a_target_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/x")
    settings = Settings.model_validate({})
    assert await build_target_health(settings, no_aws) is None


async def test_a_target_group_without_the_task_metadata_is_not_watched(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECS_CONTAINER_METADATA_URI_V4", raising=False)
    settings = Settings.model_validate({
        "gateway_target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/g/1"})
    assert await build_target_health(settings, no_aws) is None


def no_aws() -> AwsClients:
    raise AssertionError("no AWS client is opened")


def test_the_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_GATEWAY_TARGET_GROUP_ARN", "arn:tg")
    monkeypatch.setenv("ATELIER_GATEWAY_TARGET_HEALTH_POLL_SECONDS", "2")
    settings = Settings()
    assert settings.gateway_target_group_arn == "arn:tg"
    assert settings.gateway_target_health_poll_seconds == 2.0
    assert settings.gateway_target_port == 8000


async def test_a_node_without_an_elbv2_client_still_serves_unwatched(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image whose botocore lacks the elbv2 model: the node starts, only SIGTERM drains."""
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/x")
    settings = Settings.model_validate({
        "gateway_target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/g/1"})

    class NoElbv2(AwsClients):
        async def client(self, service: str) -> Any:
            raise RuntimeError(f"Unknown service: '{service}'")

    async def aws() -> AwsClients:
        return NoElbv2(settings)

    assert await build_target_health(settings, aws) is None
