"""The `/v1/realtime` WebSocket endpoint, the node's bus listener and its housekeeping."""

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from litestar.types import Receive, Scope, Send

from adapters.crypto.eddsa import InvalidToken
from application.keys.manage_keys import KEYS_CHANNEL
from application.ports.messaging import BusMessage, RealtimeBus
from entrypoints.edge_gateway.admission import TokenAdmission, TokenBucket
from entrypoints.edge_gateway.hub import (
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_RESTART,
    CLOSE_TOO_BIG,
    Connection,
    ConnectionHub,
)
from entrypoints.http_edge.errors import error_body

log = logging.getLogger("atelier.gateway")

MAX_QUERY_BYTES = 8192
DELIVERABLE_PREFIXES = ("user:",)


@dataclass(frozen=True)
class GatewayLimits:
    max_connections: int = 20_000
    max_inbound_bytes: int = 4096
    max_connection_age: float = 3600.0


class Gateway:
    """Admits sockets at the handshake and delivers the bus's messages to them."""

    def __init__(
        self,
        admission: TokenAdmission,
        hub: ConnectionHub,
        bus: RealtimeBus,
        jwks: Any,
        handshakes: TokenBucket,
        limits: GatewayLimits,
    ) -> None:
        self._admission, self._hub, self._bus, self._jwks = admission, hub, bus, jwks
        self._handshakes, self._limits = handshakes, limits
        self._pending = 0
        self.draining = False

    @property
    def connections(self) -> int:
        return len(self._hub)

    def readiness(self) -> dict[str, str]:
        return {
            "realtime_bus": "ok" if self._bus.healthy else "unavailable: subscription down",
            "jwks": "ok" if self._jwks.loaded else "unavailable: no key set yet",
            "accepting": "unavailable: draining" if self.draining else "ok",
        }

    # --- the WebSocket endpoint (raw ASGI: no per-socket objects beyond a Connection)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        refusal = self._refusal()
        if refusal is not None:
            await _deny(scope, send, 503, "unavailable", refusal[0], refusal[1])
            return
        self._pending += 1
        try:
            admitted = await self._admission.admit(_token(scope))
        except InvalidToken as exc:
            log.info("handshake refused", extra={"fields": {"reason": exc.reason}})
            await _deny(scope, send, 403, "invalid_token", "invalid connection token")
            return
        except Exception:
            log.exception("handshake check failed; refusing")
            await _deny(scope, send, 403, "invalid_token", "invalid connection token")
            return
        finally:
            self._pending -= 1
        if self.draining:
            await _deny(scope, send, 503, "unavailable", "draining", 1)
            return
        await send({"type": "websocket.accept"})
        age = self._limits.max_connection_age * random.uniform(0.9, 1.0)
        connection = Connection(send, admitted.kid, admitted.channels, time.monotonic() + age)
        self._hub.add(connection)
        try:
            await self._read_until_closed(connection, receive)
        finally:
            self._hub.discard(connection)

    def _refusal(self) -> tuple[str, int] | None:
        if self.draining:
            return "draining", 1
        if len(self._hub) + self._pending >= self._limits.max_connections:
            return "connection limit reached", 5
        wait = self._handshakes.take()
        if wait:
            return "too many handshakes", max(1, round(wait))
        return None

    async def _read_until_closed(self, connection: Connection, receive: Receive) -> None:
        # The gateway only pushes; inbound messages are ignored unless oversized.
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            data = event.get("text") or event.get("bytes") or b""
            size = len(data.encode()) if isinstance(data, str) else len(data)
            if size > self._limits.max_inbound_bytes:
                self._hub.close(connection, CLOSE_TOO_BIG, "message too big")

    # --- the node's background work

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["Gateway"]:
        tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._sweep())]
        try:
            yield self
        finally:
            await self.drain()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._hub.aclose()

    async def drain(self) -> None:
        """Refuses new sockets and closes every open one with 1012 (reconnect elsewhere)."""
        self.draining = True
        await self._hub.close_all(CLOSE_RESTART, "server restarting")

    async def _listen(self) -> None:
        while True:
            try:
                async for message in self._bus.listen():
                    await self.dispatch(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("realtime bus listener failed; restarting it")
                await asyncio.sleep(1.0)

    async def dispatch(self, message: BusMessage) -> int:
        if message.channel == KEYS_CHANNEL:
            if message.data.get("type") == "key.revoked" and isinstance(message.data.get("kid"),
                                                                         str):
                self.revoke(message.data["kid"])
            return 0
        if message.channel != "broadcast" and not message.channel.startswith(
                DELIVERABLE_PREFIXES):
            return 0
        frame = json.dumps({"channel": message.channel, "data": message.data},
                           separators=(",", ":"))
        return await self._hub.deliver(message.channel, frame)

    def revoke(self, kid: str) -> int:
        """Forgets the key and closes every socket it authenticated."""
        self._jwks.revoke(kid)
        closed = self._hub.close_where(lambda c: c.kid != kid, CLOSE_POLICY, "key revoked")
        log.warning("signing key revoked", extra={"fields": {"kid": kid, "closed": closed}})
        return closed

    async def _sweep(self) -> None:
        interval = min(5.0, max(0.2, self._limits.max_connection_age / 10))
        while True:
            await asyncio.sleep(interval)
            self._hub.close_where(_younger_than(time.monotonic()), CLOSE_NORMAL,
                                  "maximum connection age")


def _younger_than(now: float) -> Any:
    return lambda connection: connection.deadline > now


def _token(scope: Scope) -> str:
    raw: bytes = scope.get("query_string", b"")
    if len(raw) > MAX_QUERY_BYTES:
        raise InvalidToken("query too large")
    try:
        values = parse_qs(raw.decode("ascii"), max_num_fields=8).get("token", [])
    except (UnicodeDecodeError, ValueError):
        raise InvalidToken("malformed query") from None
    if len(values) != 1:
        raise InvalidToken("exactly one token is required")
    return values[0]


async def _deny(
    scope: Scope, send: Send, status: int, code: str, message: str, retry_after: int | None = None
) -> None:
    """Answers the handshake with an HTTP error: no socket ever opens."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": CLOSE_POLICY})
        return
    body = json.dumps(error_body(code, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
               (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})
