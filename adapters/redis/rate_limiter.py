"""GCRA rate limiting shared by every node through Redis, atomic in one Lua script."""

from typing import Any

from redis.asyncio import Redis

from application.ports.limits import RateDecision

# Times are integer microseconds from the server's own clock (TIME), so the nodes' clocks
# never matter; Lua numbers are doubles, exact for integers far beyond today's 1.7e15 us.
# The reply is an integer because Redis truncates Lua numbers: 0 allowed, else the wait in us.
GCRA_SCRIPT = """
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = period / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
    tat = now
end
local allow_at = tat + interval - period
-- Under a microsecond late is on time: stored TATs are rounded to whole microseconds.
if allow_at - now >= 1 then
    return math.max(1, math.ceil(allow_at - now))
end
redis.call('SET', KEYS[1], string.format('%.0f', tat + interval), 'PX',
    math.max(1, math.ceil(period / 1000)))
return 0
"""


class RedisRateLimiter:
    """At most `limit` hits per `period` seconds per key, across every node sharing Redis."""

    def __init__(self, redis: Redis, prefix: str = "atelier:rl:") -> None:
        self._redis, self._prefix = redis, prefix
        # register_script only builds a caller: EVALSHA, falling back to loading the script.
        self._script: Any = redis.register_script(GCRA_SCRIPT)

    async def hit(self, key: str, limit: int, period: float) -> RateDecision:
        if limit <= 0 or period <= 0:
            raise ValueError("limit and period must be positive")
        period_us = round(period * 1_000_000)
        wait_us = int(await self._script(keys=[self._prefix + key], args=[limit, period_us]))
        if wait_us <= 0:
            return RateDecision(allowed=True)
        return RateDecision(allowed=False, retry_after=wait_us / 1_000_000)
