"""The gateway's lighter uvicorn protocol parts (entrypoints/edge_gateway/protocol.py) and
its app's direct route to the gateway: same behaviour as what they replace."""

import asyncio
from typing import Any

import pytest

from entrypoints.edge_gateway.app import INTERNAL_ERROR_CLOSE, REALTIME_PATH, GatewayApp
from entrypoints.edge_gateway.protocol import _Flag, _Inbox


async def test_the_inbox_hands_items_out_in_order_and_wakes_a_waiting_getter() -> None:
    inbox = _Inbox()
    assert inbox.empty()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert not inbox.empty() and inbox.qsize() == 2
    assert await inbox.get() == 1 and await inbox.get() == 2
    assert inbox.empty()
    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait("disconnect")
    assert await waiting == "disconnect"
    assert inbox._waiters is None and inbox._items is None  # nothing kept while idle


async def test_a_cancelled_getter_passes_its_turn_to_the_next() -> None:
    inbox = _Inbox()
    first = asyncio.ensure_future(inbox.get())
    second = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("x")  # wakes `first`...
    first.cancel()  # ...which is cancelled before it runs
    assert await second == "x"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_the_flag_waits_only_while_cleared_and_never_suspends_while_set() -> None:
    flag = _Flag()
    assert flag.is_set()
    stepped = flag.wait()
    with pytest.raises(StopIteration):  # completes at its first step: the hub relies on it
        stepped.send(None)
    flag.clear()
    assert not flag.is_set()
    waiting = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    flag.set()
    assert await waiting is True
    assert flag._waiters is None


class _Raising:
    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")


async def test_a_gateway_error_closes_the_socket_as_litestar_did() -> None:
    app = GatewayApp(route_handlers=[], openapi_config=None, logging_config=None)
    app.state.gateway = _Raising()
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    scope = {"type": "websocket", "path": REALTIME_PATH, "headers": [], "query_string": b""}
    await app(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": INTERNAL_ERROR_CLOSE,
                     "reason": "Internal Server Error"}]


def test_the_caller_address_reads_from_a_scope_litestar_never_saw() -> None:
    """Sockets to REALTIME_PATH skip Litestar: the per-address cap still finds the address
    behind trusted proxies from the bare server scope."""
    from litestar.connection import ASGIConnection

    from entrypoints.http_edge.client_ip import client_ip

    scope: dict[str, Any] = {
        "type": "websocket", "path": REALTIME_PATH, "client": ("10.0.0.9", 5555),
        "headers": [(b"x-forwarded-for", b"198.51.100.1, 203.0.113.7")]}
    assert client_ip(ASGIConnection(scope), 1) == "203.0.113.7"  # type: ignore[arg-type]
    assert client_ip(ASGIConnection(scope), 0) == "10.0.0.9"  # type: ignore[arg-type]
