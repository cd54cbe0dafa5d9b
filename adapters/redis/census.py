"""The socket census shared by every gateway node through Redis: one hash, a field per node
holding "count:expires" (milliseconds of the server's own clock, so the nodes' clocks never
matter). Reading drops the expired fields; the hash itself expires when nobody reports."""

from typing import Any

from redis.asyncio import Redis

REPORT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. string.format('%.0f', now + ttl))
redis.call('PEXPIRE', KEYS[1], ttl)
return 0
"""

TOTAL_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
local sockets, nodes = 0, 0
for i = 1, #fields, 2 do
    local count, expires = string.match(fields[i + 1], '^(%d+):(%d+)$')
    if count and tonumber(expires) > now then
        sockets = sockets + tonumber(count)
        nodes = nodes + 1
    else
        redis.call('HDEL', KEYS[1], fields[i])
    end
end
return {sockets, nodes}
"""


class RedisSocketCensus:
    def __init__(self, redis: Redis, ttl: float, key: str = "atelier:gateway:nodes") -> None:
        self._redis, self._key = redis, key
        self._ttl_ms = max(1, round(ttl * 1000))
        self._report: Any = redis.register_script(REPORT_SCRIPT)
        self._total: Any = redis.register_script(TOTAL_SCRIPT)

    async def report(self, node: str, count: int) -> None:
        await self._report(keys=[self._key], args=[node, max(0, int(count)), self._ttl_ms])

    async def leave(self, node: str) -> None:
        await self._redis.hdel(self._key, node)

    async def total(self) -> tuple[int, int]:
        sockets, nodes = await self._total(keys=[self._key])
        return int(sockets), int(nodes)
