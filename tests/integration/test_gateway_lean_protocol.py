"""The gateway's own uvicorn protocol (`GatewayWSProtocol`, what `atelier serve gateway`
runs) over real sockets: the node-protection tests of test_gateway_limits run again under
it, plus what it changes itself (the handshake machinery dropped after the accept) and
uvicorn's keepalive pings, which it must keep."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from wsproto.connection import Connection

import tests.support.gateway
from tests.integration.test_gateway_limits import (  # noqa: F401 - collected again here
    test_a_slow_consumer_is_cut_off_with_1013,
    test_an_oversized_inbound_message_closes_the_socket_with_1009,
    test_draining_closes_sockets_with_1012_and_refuses_new_ones,
    test_past_the_connection_limit_handshakes_get_503,
    test_sockets_close_at_their_maximum_age,
)
from tests.support.server import serving

PROTOCOL = "entrypoints.edge_gateway.protocol:GatewayWSProtocol"


@pytest.fixture(autouse=True)
def lean_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    def under_lean_protocol(app: Any, ws: str = "wsproto") -> AbstractAsyncContextManager[str]:
        return serving(app, ws=PROTOCOL)

    monkeypatch.setattr(tests.support.gateway, "serving", under_lean_protocol)


async def test_after_the_accept_only_the_frame_connection_is_kept() -> None:
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        seen.append(send.__self__.conn)
        await send({"type": "websocket.send", "text": "hello"})
        message = await receive()
        await send({"type": "websocket.send", "text": "echo " + message["text"]})
        await receive()

    async with serving(app, ws=PROTOCOL) as base, connect(base.replace("http", "ws")) as ws:
        assert await ws.recv() == "hello"
        await ws.send("ping")
        assert await ws.recv() == "echo ping"
    assert isinstance(seen[0], Connection)


async def _keepalive_server(app: Any) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off",
                            ws=PROTOCOL, http="h11", loop="asyncio", ws_ping_interval=0.1,
                            ws_ping_timeout=0.3)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield server, server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def test_keepalive_pings_keep_an_answering_peer_and_drop_a_silent_one() -> None:
    closed: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        closed.append((await receive()).get("code", 0))

    async for _, port in _keepalive_server(app):
        async with connect(f"ws://127.0.0.1:{port}/", ping_interval=None):
            await asyncio.sleep(1.0)  # ~10 pings, each answered by the client library
            assert closed == []
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        rest = await asyncio.wait_for(reader.read(), 5)  # never answers: pinged, then closed
        writer.close()
        assert rest[:1] == b"\x89"  # a ping frame first
        assert b"\x88" in rest  # then a close frame (1011, keepalive ping timeout)
