"""One socket-census contract for the in-memory census and the Redis one (real server)."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import redis.asyncio

from adapters.memory.census import InMemorySocketCensus
from adapters.redis.census import RedisSocketCensus
from application.ports.census import SocketCensus

TTL = 0.6


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    census: SocketCensus
    wait: Callable[[float], Awaitable[None]]
    """Lets `seconds` pass for the census: a fake clock locally, real time on Redis."""
    other: SocketCensus
    """A second handle on the same shared place (another process's view)."""


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def h(request: pytest.FixtureRequest) -> Harness:
    if request.param == "memory":
        clock = FakeClock()

        async def advance(seconds: float) -> None:
            clock.now += seconds

        census = InMemorySocketCensus(TTL, clock)
        return Harness(census, advance, census)
    client: redis.asyncio.Redis = request.getfixturevalue("redis_client")
    return Harness(RedisSocketCensus(client, TTL, key="test:census"), asyncio.sleep,
                   RedisSocketCensus(client, TTL, key="test:census"))


async def test_nobody_reporting_is_zero_sockets_on_zero_nodes(h: Harness) -> None:
    assert await h.census.total() == (0, 0)


async def test_sums_every_node_and_a_new_report_replaces_the_old(h: Harness) -> None:
    await h.census.report("gw-a", 3)
    await h.other.report("gw-b", 5)
    assert await h.census.total() == (8, 2)
    assert await h.other.total() == (8, 2)
    await h.census.report("gw-a", 1)
    assert await h.other.total() == (6, 2)
    await h.census.report("gw-c", 0)
    assert await h.census.total() == (6, 3)  # an idle node is still a node


async def test_a_node_that_stops_reporting_drops_out_after_the_ttl(h: Harness) -> None:
    await h.census.report("gw-a", 3)
    await h.census.report("gw-b", 5)
    await h.wait(TTL * 0.5)
    await h.census.report("gw-b", 4)  # b keeps reporting, a has gone quiet
    assert await h.census.total() == (7, 2)
    await h.wait(TTL * 0.7)
    assert await h.census.total() == (4, 1)
    await h.wait(TTL * 0.7)
    assert await h.census.total() == (0, 0)
    await h.census.report("gw-a", 2)  # back after a restart
    assert await h.census.total() == (2, 1)


async def test_a_node_that_leaves_drops_out_at_once(h: Harness) -> None:
    await h.census.report("gw-a", 3)
    await h.census.report("gw-b", 5)
    await h.other.leave("gw-a")
    assert await h.census.total() == (5, 1)
    await h.census.leave("gw-unknown")
    assert await h.census.total() == (5, 1)


async def test_many_nodes_reporting_at_once_are_all_counted(h: Harness) -> None:
    await asyncio.gather(*(h.census.report(f"gw-{i}", i) for i in range(50)))
    assert await h.other.total() == (sum(range(50)), 50)
