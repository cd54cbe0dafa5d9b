import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Collection
from typing import Any

from application.ports.messaging import BusMessage

QUEUE_LIMIT = 10_000


class InMemoryRealtimeBus:
    """Delivers published messages to the listeners in this process: a listener on every
    channel hears all of them; one on some channels hears those and the joined ones."""

    def __init__(self) -> None:
        self._listeners: dict[asyncio.Queue[BusMessage], frozenset[str] | None] = {}
        self._joined: Counter[str] = Counter()

    async def publish(
        self, channel: str, data: dict[str, Any], traceparent: str | None = None
    ) -> None:
        # What Redis would carry: a JSON copy (non-JSON data fails here, as it would there).
        message = BusMessage(channel, json.loads(json.dumps(data)), traceparent)
        joined = channel in self._joined
        for queue, channels in list(self._listeners.items()):
            if channels is None or joined or channel in channels:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(message)

    async def listen(self, channels: Collection[str] | None = None) -> AsyncIterator[BusMessage]:
        queue: asyncio.Queue[BusMessage] = asyncio.Queue(QUEUE_LIMIT)
        self._listeners[queue] = None if channels is None else frozenset(channels)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.pop(queue, None)

    async def join(self, channel: str) -> None:
        self._joined[channel] += 1

    def leave(self, channel: str) -> None:
        self._joined[channel] -= 1
        if self._joined[channel] <= 0:
            del self._joined[channel]

    @property
    def healthy(self) -> bool:
        return True
