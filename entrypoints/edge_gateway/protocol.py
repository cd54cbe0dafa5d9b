"""uvicorn's wsproto WebSocket protocol, lighter per socket for a node holding many idle ones.

Behaviour is uvicorn's own (`WSProtocol`, `--ws wsproto`); only what each socket keeps
while it sits open changes:

- its inbound queue and its writable flag are two small slotted objects instead of an
  `asyncio.Queue` (three deques and an Event) and an `asyncio.Event` (one deque): about
  3.7 KiB less per socket;
- once the handshake is answered with an accept, the protocol keeps only wsproto's
  `Connection` (the frames) and lets go of the handshake machinery: the h11 connection and
  the handshake request with its headers and target (the connection token): about 3 KiB.

Selected by the gateway's serve options (`ws=` in `entrypoints.cli.commands`).
"""

import asyncio
from typing import Any, cast

from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
from wsproto import WSConnection


class _Inbox:
    """What `WSProtocol` asks of its `asyncio.Queue`: `put_nowait`, `get`, `empty`. Nothing
    is held while it is empty but the futures of whoever waits (usually the one ASGI
    `receive`)."""

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._waiters: list[asyncio.Future[None]] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        self._wake_one()

    async def get(self) -> Any:
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = [waiter]
            else:
                self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                # as asyncio.Queue does: a woken getter that is cancelled passes its turn on
                if self._items and not waiter.cancelled():
                    self._wake_one()
                raise
            finally:
                self._forget(waiter)
        item = self._items.pop(0)
        if not self._items:
            self._items = None
        return item

    def _wake_one(self) -> None:
        for waiter in self._waiters or ():
            if not waiter.done():
                waiter.set_result(None)
                return

    def _forget(self, waiter: "asyncio.Future[None]") -> None:
        if self._waiters is not None:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            if not self._waiters:
                self._waiters = None


class _Flag:
    """What `WSProtocol` asks of its `asyncio.Event` (`writable`): `set`, `clear`, `is_set`,
    `wait` (which returns at once, without suspending, while the flag is set)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
                if not self._waiters:
                    self._waiters = None


class GatewayWSProtocol(WSProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = cast(Any, _Inbox())
        self.writable = cast(Any, _Flag())

    def start_keepalive(self) -> None:
        # uvicorn calls this once, right after writing the accept (so `send` itself, on
        # every frame of the fan-out, stays uvicorn's). From here on wsproto's WSConnection
        # only hands every call to its established Connection (the same methods: send,
        # receive_data, events, state): keep that alone.
        conn = self.conn
        if isinstance(conn, WSConnection) and conn.connection is not None:
            self.conn = cast(Any, conn.connection)
        super().start_keepalive()
