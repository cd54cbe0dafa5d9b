"""The gateway's node protections over real sockets: connection and handshake-rate limits
(503), inbound size limit (1009), slow consumers cut off (1013), maximum connection age,
and draining (1012, then 503)."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from adapters.memory.bus import InMemoryRealtimeBus
from entrypoints.edge_gateway.gateway import Gateway
from entrypoints.wiring.di import resolve
from tests.support.gateway import (
    CountingOrigin,
    claims,
    gateway_settings,
    handshake,
    new_key,
    next_frame,
    running_gateway,
    sign,
)
from tests.support.server import serving


@asynccontextmanager
async def gateway(**overrides: Any) -> AsyncIterator[tuple[str, Any, Gateway, InMemoryRealtimeBus]]:
    key = new_key()
    bus = InMemoryRealtimeBus()
    async with (
        serving(CountingOrigin(keys=[key])) as origin_url,
        running_gateway(gateway_settings(origin_url + "/jwks", **overrides), bus) as (url, c),
    ):
        yield url, key, await resolve(c.gateway), bus


async def test_past_the_connection_limit_handshakes_get_503() -> None:
    async with gateway(gateway_max_connections=2) as (url, key, _, __):
        token = sign(key, claims())
        async with connect(f"{url}?token={token}"), connect(f"{url}?token={token}"):
            try:
                await connect(f"{url}?token={token}")
                raise AssertionError("a third socket opened")
            except InvalidStatus as exc:
                assert exc.response.status_code == 503
                assert exc.response.headers["retry-after"]
        assert await handshake(url, token) == 101


async def test_past_the_handshake_rate_handshakes_get_503() -> None:
    async with gateway(gateway_handshakes_per_second=0.5, gateway_handshake_burst=3) as (
        url, key, _, __
    ):
        statuses = [await handshake(url, sign(key, claims())) for _ in range(5)]
        assert statuses[:3] == [101, 101, 101] and statuses[3:] == [503, 503]


async def test_an_oversized_inbound_message_closes_the_socket_with_1009() -> None:
    async with gateway(gateway_max_inbound_bytes=1024) as (url, key, node, _):
        async with connect(f"{url}?token={sign(key, claims())}") as ws:
            await ws.send("x" * 100)
            await ws.send("x" * 5000)
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1009
        await asyncio.sleep(0.1)
        assert node.connections == 0


async def test_a_slow_consumer_is_cut_off_with_1013() -> None:
    async with (
        gateway(gateway_send_queue_size=4) as (url, key, node, bus),
        connect(f"{url}?token={sign(key, claims('slow'))}", max_queue=1, max_size=2**20) as slow,
        connect(f"{url}?token={sign(key, claims('fast'))}") as fast,
    ):
        chunk = secrets.token_urlsafe(65536)  # incompressible: deflate may be on
        for n in range(1000):
            await bus.publish("user:slow", {"n": n, "pad": chunk})
            await asyncio.sleep(0.002)
            if node.connections < 2:
                break
        assert node.connections == 1  # the slow one is gone from the fan-out
        received = 0
        try:
            while True:
                await asyncio.wait_for(slow.recv(), 10)
                received += 1
        except Exception:
            pass
        assert slow.close_code == 1013, (slow.close_code, received)
        await bus.publish("user:fast", {"ok": True})
        assert await next_frame(fast) == {"channel": "user:fast", "data": {"ok": True}}


async def test_sockets_close_at_their_maximum_age() -> None:
    async with (
        gateway(gateway_max_connection_age_seconds=1.0) as (url, key, _, __),
        connect(f"{url}?token={sign(key, claims())}") as ws,
    ):
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 1000


async def test_draining_closes_sockets_with_1012_and_refuses_new_ones() -> None:
    async with gateway() as (url, key, node, _):
        token = sign(key, claims())
        sockets = [await connect(f"{url}?token={token}") for _ in range(3)]
        await node.drain()
        for ws in sockets:
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1012
        assert await handshake(url, token) == 503
        base = url.removesuffix("/v1/realtime")
        async with httpx.AsyncClient(trust_env=False) as client:
            ready = await client.get(f"{base}/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["accepting"] == "unavailable: draining"
            assert (await client.get(f"{base}/healthz")).status_code == 200
