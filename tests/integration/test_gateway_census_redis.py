"""Two gateway processes (`atelier serve gateway`) report their open sockets to the shared
Redis census the console reads: the sum over both; a node stopped cleanly leaves at once, a
killed one drops out once its report expires."""

import asyncio
import secrets
import signal
import time
from pathlib import Path

import pytest
import redis.asyncio
from websockets.asyncio.client import connect

from adapters.redis.census import RedisSocketCensus
from tests.integration.test_gateway_redis import two_gateways
from tests.support.gateway import claims, sign

pytestmark = pytest.mark.redis

INTERVAL = 0.3


async def until(census: RedisSocketCensus, expected: tuple[int, int],
                timeout: float = 10.0) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while (seen := await census.total()) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return seen


async def test_the_census_sums_both_nodes_and_forgets_a_stopped_or_killed_one(
    redis_url: str, redis_client: redis.asyncio.Redis, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(4)}:"
    monkeypatch.setenv("ATELIER_GATEWAY_CENSUS_INTERVAL_SECONDS", str(INTERVAL))
    census = RedisSocketCensus(redis_client, 3 * INTERVAL, key=f"{prefix}gateway:nodes")
    async with two_gateways(redis_url, tmp_path, prefix) as (nodes, key):
        assert await until(census, (0, 2)) == (0, 2)
        (first, first_process), (second, second_process) = nodes
        token = sign(key, claims("alice"))  # type: ignore[arg-type]
        async with (
            connect(f"ws://{first}/v1/realtime?token={token}"),
            connect(f"ws://{first}/v1/realtime?token={token}"),
            connect(f"ws://{second}/v1/realtime?token={token}"),
        ):
            assert await until(census, (3, 2)) == (3, 2)

            second_process.send_signal(signal.SIGTERM)  # drains, then leaves the census
            assert await until(census, (2, 1)) == (2, 1)

            started = time.monotonic()
            first_process.send_signal(signal.SIGKILL)  # no goodbye: its report expires
            assert await until(census, (0, 0)) == (0, 0)
            assert time.monotonic() - started < 3 * INTERVAL + 2.0
