"""The `/v1/realtime` WebSocket endpoint, the node's bus listener and its housekeeping."""

import asyncio
import contextlib
import json
import logging
import math
import random
import time
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import parse_qs

from litestar import types as asgi
from litestar.connection import ASGIConnection
from opentelemetry.trace import SpanKind

from adapters.crypto.eddsa import InvalidToken
from application.auth.session_events import AUTH_CHANNEL, KEY_REVOKED, SESSIONS_ENDED
from application.keys.manage_keys import KEYS_CHANNEL
from application.ports.messaging import BusMessage, NodeBus
from entrypoints.edge_gateway.admission import (
    Admitted,
    TokenAdmission,
    TokenBucket,
    refusal_reason,
)
from entrypoints.edge_gateway.hub import (
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_RESTART,
    CLOSE_TOO_BIG,
    Connection,
    ConnectionHub,
)
from entrypoints.http_edge.client_ip import client_ip
from entrypoints.http_edge.errors import error_body
from entrypoints.wiring.background import finish_or_abandon
from entrypoints.wiring.tracing import context_from, tracer

log = logging.getLogger("atelier.gateway")

# The raw ASGI events this endpoint sends and reads, as plain dicts.
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_QUERY_BYTES = 8192
DELIVERABLE_PREFIXES = ("user:",)
NODE_CHANNELS = ("broadcast", KEYS_CHANNEL, AUTH_CHANNEL)
"""What every node follows whatever sockets it holds; a user's channel is followed only
while a socket of that user is open here."""
FIRST_KEYS_WAIT = 2.0  # a handshake at cold start waits this long for the first key set
DRAIN_TICK = 0.1  # a paced drain closes its next slice of sockets this often
DRAINING_RETRY_AFTER = 1  # a draining node's 503: try again now, elsewhere (the balancer)
STEP_TIMEOUT = 5.0  # each step of the node's shutdown; one that hangs is logged and left


class KeySet(Protocol):
    """The gateway's copy of the origin's public keys (the JWKS)."""

    @property
    def loaded(self) -> bool: ...

    @property
    def kids(self) -> list[str]: ...

    def revoke(self, kid: str) -> None: ...

    async def wait_loaded(self, within: float) -> bool: ...

    async def refresh(self) -> bool: ...


class GatewayMetrics(Protocol):
    """Handshakes by outcome and reason, sockets open, messages delivered, slow consumers."""

    def handshake(self, outcome: str, reason: str) -> None: ...

    def messages_delivered(self, count: int) -> None: ...

    def watch_gateway(
        self, sockets_open: Callable[[], int], slow_consumers_closed: Callable[[], int]
    ) -> None: ...


@dataclass(frozen=True)
class GatewayLimits:
    max_connections: int = 20_000
    max_inbound_bytes: int = 4096
    max_connection_age: float = 3600.0
    max_sockets_per_token: int = 5
    max_sockets_per_address: int = 200
    trusted_hops: int = 0


class Gateway:
    """Admits sockets at the handshake and delivers the bus's messages to them; closes
    the sockets of a revoked key or of ended sessions when the bus says so."""

    def __init__(
        self,
        admission: TokenAdmission,
        hub: ConnectionHub,
        bus: NodeBus,
        jwks: KeySet,
        handshakes: TokenBucket,
        limits: GatewayLimits,
        metrics: GatewayMetrics,
    ) -> None:
        self._admission, self._hub, self._bus, self._jwks = admission, hub, bus, jwks
        self._handshakes, self._limits = handshakes, limits
        self._metrics = metrics
        metrics.watch_gateway(lambda: len(hub), lambda: hub.cut_off)
        self._pending = 0
        self._per_token: Counter[str] = Counter()
        self._per_address: Counter[str] = Counter()
        self.draining = False
        self._hurry = asyncio.Event()
        self._paced: asyncio.Event | None = None  # set once the paced drain is over

    @property
    def connections(self) -> int:
        return len(self._hub)

    def readiness(self) -> dict[str, str]:
        return {
            "realtime_bus": "ok" if self._bus.healthy else "unavailable: subscription down",
            "jwks": "ok" if self._jwks.loaded else "unavailable: no key set yet",
            "accepting": "unavailable: draining" if self.draining else "ok",
        }

    # --- the WebSocket endpoint (raw ASGI: no per-socket objects beyond a Connection).
    # An idle socket holds one coroutine frame per call level down to its `receive`, so
    # the levels are few: `handle`, then `_serve` for an admitted socket.

    async def handle(
        self, asgi_scope: asgi.Scope, asgi_receive: asgi.Receive, asgi_send: asgi.Send
    ) -> None:
        scope, receive = cast(Scope, asgi_scope), cast(Receive, asgi_receive)
        send = cast(Send, asgi_send)
        if (await receive())["type"] != "websocket.connect":
            return
        refusal = self._refusal()
        if refusal is not None:
            self._metrics.handshake("refused", refusal[0])
            await _deny(scope, send, 503, "unavailable", refusal[1], refusal[2])
            return
        address = client_ip(ASGIConnection(scope), self._limits.trusted_hops)  # type: ignore[arg-type]
        if self._per_address[address] >= self._limits.max_sockets_per_address:
            self._metrics.handshake("refused", "too_many_sockets_per_address")
            await _deny(scope, send, 429, "too_many_sockets",
                        "too many sockets from this address", 5)
            return
        self._per_address[address] += 1  # held from here: concurrent handshakes count
        try:
            admitted = await self._admit(scope, send)
            if admitted is not None:
                await self._serve(admitted, scope, receive, send)
        finally:
            _release(self._per_address, address)

    async def _admit(self, scope: Scope, send: Send) -> Admitted | None:
        """The verified token, holding one of its socket places (released by `_serve`),
        or None once the handshake has been refused."""
        self._pending += 1
        try:
            # Not ready is not invalid: a client told `invalid_token` logs its user out.
            if not self._jwks.loaded and not await self._jwks.wait_loaded(FIRST_KEYS_WAIT):
                self._metrics.handshake("refused", "keys_not_loaded")
                await _deny(scope, send, 503, "unavailable", "signing keys not loaded yet", 1)
                return None
            admitted = await self._admission.admit(_token(scope))
        except InvalidToken as exc:
            log.info("handshake refused", extra={"fields": {"reason": exc.reason}})
            self._metrics.handshake("refused", refusal_reason(exc))
            await _deny(scope, send, 403, "invalid_token", "invalid connection token")
            return None
        except Exception:
            log.exception("handshake check failed; refusing")
            self._metrics.handshake("refused", "check_failed")
            await _deny(scope, send, 403, "invalid_token", "invalid connection token")
            return None
        finally:
            self._pending -= 1
        if self.draining:
            self._metrics.handshake("refused", "draining")
            await _deny(scope, send, 503, "unavailable", "draining", DRAINING_RETRY_AFTER)
            return None
        if self._per_token[admitted.token_id] >= self._limits.max_sockets_per_token:
            self._metrics.handshake("refused", "too_many_sockets_per_token")
            await _deny(scope, send, 429, "too_many_sockets",
                        "this connection token has opened its sockets; ask for a new one")
            return None
        self._per_token[admitted.token_id] += 1
        return admitted

    async def _serve(self, admitted: Admitted, scope: Scope, receive: Receive, send: Send) -> None:
        joined: list[str] = []
        try:
            # The node follows the socket's channels before the handshake completes, and
            # the hub holds what arrives until the accept is out: nothing is lost between.
            try:
                for channel in admitted.channels:
                    await self._bus.join(channel)
                    joined.append(channel)
            except Exception:
                log.warning("could not follow a socket's channels; refusing")
                self._metrics.handshake("refused", "bus_unavailable")
                await _deny(scope, send, 503, "unavailable", "realtime bus unavailable", 1)
                return
            age = self._limits.max_connection_age * random.uniform(0.9, 1.0)
            connection = Connection(send, admitted.kid, admitted.channels,
                                    time.monotonic() + age, admitted.subject,
                                    admitted.device_id)
            self._hub.add(connection, held=True)
            try:
                await send({"type": "websocket.accept"})
                self._metrics.handshake("accepted", "none")
                self._hub.release(connection)
                # The gateway only pushes; inbound messages are ignored unless oversized.
                too_big = self._limits.max_inbound_bytes
                while (event := await receive())["type"] != "websocket.disconnect":
                    data = event.get("text") or event.get("bytes") or b""
                    if (len(data.encode()) if isinstance(data, str) else len(data)) > too_big:
                        self._hub.close(connection, CLOSE_TOO_BIG, "message too big")
            finally:
                self._hub.discard(connection)
        finally:
            # A draining node is about to drop its whole subscription: one UNSUBSCRIBE per
            # socket's channel (30,000 for 15,000 sockets) would only delay its exit.
            if not self.draining:
                for channel in joined:
                    self._bus.leave(channel)
            _release(self._per_token, admitted.token_id)

    def _refusal(self) -> tuple[str, str, int] | None:
        """(reason, message, retry after) when the node takes no handshake now."""
        if self.draining:
            return "draining", "draining", DRAINING_RETRY_AFTER
        if len(self._hub) + self._pending >= self._limits.max_connections:
            return "connection_limit", "connection limit reached", 5
        if self._handshakes.take():
            return "handshake_rate", "too many handshakes", self._handshakes.retry_after()
        return None

    # --- the node's background work

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["Gateway"]:
        tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._sweep())]
        RUNNING.add(self)
        try:
            yield self
        finally:
            RUNNING.discard(self)
            await bounded("gateway: close the remaining sockets", self.drain(), STEP_TIMEOUT + 5)
            for task in tasks:
                task.cancel()
            await bounded("gateway: stop the bus listener and the sweep",
                          asyncio.wait(tasks), STEP_TIMEOUT)
            await bounded("gateway: stop the sockets' send tasks", self._hub.aclose(),
                          STEP_TIMEOUT)

    async def drain(self, over: float = 0.0) -> None:
        """Refuses new sockets at once (`/readyz` and handshakes: 503), then closes every
        open one with 1012 (reconnect elsewhere), evenly over `over` seconds, a slice every
        `DRAIN_TICK`: the clients come back to the other nodes spread over that time, not
        all within their first backoff. `hurry()` closes the rest at once. A drain already
        under way (the load balancer's, then SIGTERM's) is waited for, not started again;
        `over` 0 hurries it."""
        self.draining = True
        if self._paced is not None:
            if over <= 0:
                self.hurry()
            await self._paced.wait()
        else:
            self._paced = asyncio.Event()
            try:
                await self._close_paced(over)
            finally:
                self._paced.set()
        await self._hub.close_all(CLOSE_RESTART, "server restarting")  # any held at the start

    async def _close_paced(self, over: float) -> None:
        doomed = self._hub.open_connections()
        total, closed, start = len(doomed), 0, time.monotonic()
        if total:
            log.info("draining", extra={"fields": {"sockets": total, "over_seconds": over}})
        while closed < total:
            elapsed = time.monotonic() - start + DRAIN_TICK
            due = total if over <= 0 or self._hurry.is_set() else min(
                total, math.ceil(total * elapsed / over))
            for connection in doomed[closed:due]:
                self._hub.close(connection, CLOSE_RESTART, "server restarting")
            closed = due
            if closed < total:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), DRAIN_TICK)

    def hurry(self) -> None:
        """Ends a paced drain: what is still open is closed at once."""
        self._hurry.set()

    async def _listen(self) -> None:
        while True:
            try:
                async for message in self._bus.listen(NODE_CHANNELS):
                    self._metrics.messages_delivered(await self.dispatch(message))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("realtime bus listener failed; restarting it")
                await asyncio.sleep(1.0)

    async def dispatch(self, message: BusMessage) -> int:
        if message.channel == KEYS_CHANNEL:
            if message.data.get("type") == KEY_REVOKED and isinstance(message.data.get("kid"),
                                                                       str):
                self.revoke(message.data["kid"])
            return 0
        if message.channel == AUTH_CHANNEL:
            if message.data.get("type") == SESSIONS_ENDED and isinstance(
                    message.data.get("user_id"), str):
                device_id = message.data.get("device_id")
                self.end_sessions(message.data["user_id"],
                                  device_id if isinstance(device_id, str) else None)
            return 0
        if message.channel != "broadcast" and not message.channel.startswith(
                DELIVERABLE_PREFIXES):
            return 0
        frame = json.dumps({"channel": message.channel, "data": message.data},
                           separators=(",", ":"))
        parent = context_from(message.traceparent)
        if parent is None:
            return await self._hub.deliver(message.channel, frame)
        with tracer().start_as_current_span(
                "realtime.deliver", context=parent, kind=SpanKind.CONSUMER,
                attributes={"realtime.channel_kind": message.channel.split(":", 1)[0],
                            "realtime.type": str(message.data.get("type", ""))}) as span:
            reached = await self._hub.deliver(message.channel, frame)
            span.set_attribute("realtime.sockets_reached", reached)
            return reached

    def revoke(self, kid: str) -> int:
        """Forgets the key and closes every socket it authenticated."""
        self._jwks.revoke(kid)
        closed = self._hub.close_where(lambda c: c.kid != kid, CLOSE_POLICY, "key revoked")
        log.warning("signing key revoked", extra={"fields": {"kid": kid, "closed": closed}})
        return closed

    def end_sessions(self, user_id: str, device_id: str | None) -> int:
        """Closes the user's sockets (only those from `device_id`, when given) with 1008."""
        closed = self._hub.close_where(
            lambda c: c.subject != user_id or (device_id is not None and c.device_id != device_id),
            CLOSE_POLICY, "session ended")
        log.info("sessions ended", extra={"fields": {"closed": closed}})
        return closed

    async def _sweep(self) -> None:
        interval = min(5.0, max(0.2, self._limits.max_connection_age / 10))
        bus_was_healthy = True
        while True:
            await asyncio.sleep(interval)
            self._hub.close_where(_younger_than(time.monotonic()), CLOSE_NORMAL,
                                  "maximum connection age")
            # Messages published while the subscription was down are lost (a revocation
            # among them): refetch the key set at once when it comes back.
            if self._bus.healthy and not bus_was_healthy:
                await self._jwks.refresh()
            bus_was_healthy = self._bus.healthy
            self._close_withdrawn_keys()

    def _close_withdrawn_keys(self) -> None:
        """A key gone from the JWKS (revoked while this node missed the message) no longer
        vouches for its sockets. A key retired by rotation leaves the set only after every
        socket it authenticated has reached its maximum age."""
        if not self._jwks.loaded:
            return
        trusted = set(self._jwks.kids)
        closed = self._hub.close_where(lambda c: c.kid in trusted, CLOSE_POLICY, "key revoked")
        if closed:
            log.warning("sockets of a withdrawn key closed", extra={"fields": {"closed": closed}})


RUNNING: "weakref.WeakSet[Gateway]" = weakref.WeakSet()
"""The gateways serving in this process (one; `atelier dev` mounts one too): what a
SIGTERM drains (entrypoints/edge_gateway/server.py)."""


async def bounded(step: str, work: Coroutine[Any, Any, Any], seconds: float) -> None:
    """Awaits one step of a shutdown for at most `seconds`; a step that hangs (a Redis that
    stopped answering) is logged by name and left behind, not awaited: a drained node must
    exit whatever its dependencies do."""
    await finish_or_abandon(asyncio.create_task(work, name=step), seconds)


def _younger_than(now: float) -> Any:
    return lambda connection: connection.deadline > now


def _release(counts: Counter[str], key: str) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]


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
