"""One GCRA contract for the in-memory limiter and the Redis one (real server)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import redis.asyncio

from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.redis.rate_limiter import RedisRateLimiter
from application.ports.limits import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    limiter: RateLimiter
    wait: Callable[[float], Awaitable[None]]
    """Lets `seconds` pass for the limiter: a fake clock locally, real time on Redis."""


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def h(request: pytest.FixtureRequest) -> Harness:
    if request.param == "memory":
        clock = FakeClock()

        async def advance(seconds: float) -> None:
            clock.now += seconds

        return Harness(InMemoryRateLimiter(clock), advance)
    client: redis.asyncio.Redis = request.getfixturevalue("redis_client")
    return Harness(RedisRateLimiter(client, prefix="test:rl:"), asyncio.sleep)


async def test_allows_exactly_the_burst_then_denies(h: Harness) -> None:
    decisions = [await h.limiter.hit("ip:1", 5, 10.0) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert all(d.retry_after == 0 for d in decisions[:5])
    denied = decisions[-1]
    assert 0 < denied.retry_after <= 2.0  # one emission interval, period / limit
    assert denied.retry_after == pytest.approx(2.0, abs=0.1)


async def test_recovers_after_time_passes(h: Harness) -> None:
    for _ in range(4):
        assert (await h.limiter.hit("k", 4, 2.0)).allowed
    denied = await h.limiter.hit("k", 4, 2.0)
    assert not denied.allowed
    await h.wait(denied.retry_after + 0.02)
    assert (await h.limiter.hit("k", 4, 2.0)).allowed
    assert not (await h.limiter.hit("k", 4, 2.0)).allowed
    await h.wait(2.1)  # a whole period: the full burst is back
    assert [(await h.limiter.hit("k", 4, 2.0)).allowed for _ in range(5)] == [True] * 4 + [False]


@pytest.mark.parametrize(("limit", "period"), [(3, 10.0), (7, 30.0), (30, 60.0), (1, 5.0)])
async def test_uneven_intervals_still_allow_the_whole_burst(
    h: Harness, limit: int, period: float
) -> None:
    decisions = [await h.limiter.hit("uneven", limit, period) for _ in range(limit + 1)]
    assert [d.allowed for d in decisions] == [True] * limit + [False]
    assert decisions[-1].retry_after == pytest.approx(period / limit, rel=0.1)


async def test_keys_are_independent(h: Harness) -> None:
    assert (await h.limiter.hit("a", 1, 60)).allowed
    assert not (await h.limiter.hit("a", 1, 60)).allowed
    assert (await h.limiter.hit("b", 1, 60)).allowed


async def test_concurrent_hits_never_exceed_the_limit(h: Harness) -> None:
    decisions = await asyncio.gather(*(h.limiter.hit("flood", 10, 60) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10
    assert all(d.retry_after > 0 for d in decisions if not d.allowed)


async def test_a_steady_rate_at_the_limit_is_allowed(h: Harness) -> None:
    for _ in range(3):
        assert (await h.limiter.hit("steady", 2, 0.2)).allowed
        assert (await h.limiter.hit("steady", 2, 0.2)).allowed
        await h.wait(0.22)


@pytest.mark.redis
async def test_redis_keys_expire_with_the_period(redis_client: redis.asyncio.Redis) -> None:
    limiter = RedisRateLimiter(redis_client, prefix="test:rl:")
    await limiter.hit("ttl", 3, 2.0)
    ttl_ms = await redis_client.pttl("test:rl:ttl")
    assert 0 < ttl_ms <= 2000


@pytest.mark.redis
async def test_redis_nodes_share_one_budget(
    redis_url: str, redis_client: redis.asyncio.Redis
) -> None:
    other = redis.asyncio.Redis.from_url(redis_url)
    try:
        node_a = RedisRateLimiter(redis_client)
        node_b = RedisRateLimiter(other)
        results = await asyncio.gather(
            *(node.hit("shared", 6, 60) for node in [node_a, node_b] * 10))
        assert sum(d.allowed for d in results) == 6
    finally:
        await other.aclose()


async def test_memory_forgets_keys_whose_time_has_passed() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(clock)
    for i in range(5000):
        await limiter.hit(f"ip:{i}", 10, 1.0)
        clock.now += 0.01  # each key's TAT is 0.1 s ahead: only ~10 stay live
    assert len(limiter) < 2100


async def test_memory_is_quick() -> None:
    limiter = InMemoryRateLimiter()
    started = time.perf_counter()
    for i in range(20_000):
        await limiter.hit(f"k{i % 500}", 100, 1.0)
    assert time.perf_counter() - started < 1.0
