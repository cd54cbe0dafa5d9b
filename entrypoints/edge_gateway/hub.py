"""Every open socket of this node, indexed by channel, and the fan-out to them.

Per-socket state is one small slotted object. Sending needs no task per socket: the ASGI
`send` of a writable socket completes without suspending, so the fan-out steps it by hand;
only a socket whose transport pushes back gets a drain task and a bounded backlog, and one
whose backlog fills is cut off (close 1013).
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

log = logging.getLogger("atelier.gateway")

Send = Callable[[dict[str, Any]], Awaitable[None]]

CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TOO_BIG = 1000, 1008, 1009
CLOSE_RESTART, CLOSE_TRY_LATER = 1012, 1013
FANOUT_SLICE = 512  # sockets served before letting handshakes and pings run


class _Resume:
    """Awaitable that finishes a coroutine already stepped once by hand (it suspended on
    `awaiting`), so a Task can carry on from where the fan-out stopped."""

    __slots__ = ("_awaiting", "_coro")

    def __init__(self, coro: Coroutine[Any, Any, Any], awaiting: Any) -> None:
        self._coro, self._awaiting = coro, awaiting

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, awaiting = self._coro, self._awaiting
        while True:
            try:
                sent = yield awaiting
            except BaseException as exc:
                try:
                    awaiting = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    awaiting = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


class Connection:
    __slots__ = ("backlog", "channels", "closed", "deadline", "device_id", "kid", "send",
                 "subject")

    def __init__(
        self, send: Send, kid: str, channels: tuple[str, ...], deadline: float,
        subject: str = "", device_id: str | None = None,
    ) -> None:
        self.send, self.kid, self.channels, self.deadline = send, kid, channels, deadline
        self.subject, self.device_id = subject, device_id
        self.backlog: deque[dict[str, Any]] | None = None
        self.closed = False


class ConnectionHub:
    """Registry and fan-out for one node."""

    def __init__(self, send_queue_size: int) -> None:
        self._queue_size = send_queue_size
        self._channels: dict[str, set[Connection]] = {}
        self._all: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.cut_off = 0

    def __len__(self) -> int:
        return len(self._all)

    def add(self, connection: Connection, held: bool = False) -> None:
        """Registers the socket; a `held` one (not accepted yet) queues what reaches it
        until `release`."""
        if held:
            connection.backlog = deque()
        self._all.add(connection)
        for channel in connection.channels:
            self._channels.setdefault(channel, set()).add(connection)

    def release(self, connection: Connection) -> None:
        """Starts sending to a held socket, what queued while it was held first."""
        if connection.closed or connection.backlog is None:
            return
        if connection.backlog:
            self._spawn(self._drain(connection, None))
        else:
            connection.backlog = None

    def discard(self, connection: Connection) -> None:
        connection.closed = True
        self._all.discard(connection)
        for channel in connection.channels:
            members = self._channels.get(channel)
            if members is not None:
                members.discard(connection)
                if not members:
                    del self._channels[channel]

    async def deliver(self, channel: str, frame: str) -> int:
        """Queues `frame` to every socket on `channel`; returns how many it reached."""
        members = self._channels.get(channel)
        if not members:
            return 0
        event = {"type": "websocket.send", "text": frame}
        reached = 0
        for index, connection in enumerate(list(members)):
            if index and index % FANOUT_SLICE == 0:
                await asyncio.sleep(0)
            if not connection.closed and self._push(connection, event):
                reached += 1
        return reached

    def _push(self, connection: Connection, event: dict[str, Any]) -> bool:
        if connection.backlog is not None:
            if len(connection.backlog) >= self._queue_size:
                self.cut_off += 1
                self.close(connection, CLOSE_TRY_LATER, "too slow: send queue full")
                return False
            connection.backlog.append(event)
            return True
        coro = connection.send(event)
        try:
            awaiting = coro.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            return True
        except Exception:
            self.discard(connection)
            return False
        connection.backlog = deque()
        self._spawn(self._drain(connection, _Resume(coro, awaiting)))  # type: ignore[arg-type]
        return True

    async def _drain(self, connection: Connection, pending: _Resume | None) -> None:
        try:
            if pending is not None:
                await pending
            while connection.backlog and not connection.closed:
                await connection.send(connection.backlog.popleft())
        except Exception:
            self.discard(connection)
        finally:
            connection.backlog = None

    def close(self, connection: Connection, code: int, reason: str = "") -> None:
        """Stops delivering to the socket and sends it a close frame."""
        if connection.closed:
            return
        self.discard(connection)
        connection.backlog = None
        self._spawn(self._send_close(connection.send, code, reason))

    async def _send_close(self, send: Send, code: int, reason: str) -> None:
        try:
            await asyncio.wait_for(
                send({"type": "websocket.close", "code": code, "reason": reason}), 5.0)
        except TimeoutError:
            # A peer that never reads keeps its buffer forever: under uvicorn, drop it hard.
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None:
                transport.abort()
        except Exception:  # noqa: S110 - the peer is gone already
            pass

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close_where(self, keep: Callable[[Connection], bool], code: int, reason: str) -> int:
        doomed = [c for c in self._all if not keep(c)]
        for connection in doomed:
            self.close(connection, code, reason)
        return len(doomed)

    def open_connections(self) -> list[Connection]:
        return list(self._all)

    async def close_all(self, code: int, reason: str) -> None:
        self.close_where(lambda _: False, code, reason)
        if self._tasks:  # the close frames and backlogs in flight, 6 s at most
            await asyncio.wait(list(self._tasks), timeout=6.0)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:  # a task that ignores its cancellation is left behind, not awaited
            with contextlib.suppress(Exception):
                await asyncio.wait(list(self._tasks), timeout=5.0)
