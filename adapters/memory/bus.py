import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from application.ports.messaging import BusMessage

QUEUE_LIMIT = 10_000


class InMemoryRealtimeBus:
    """Delivers published messages to every listener in this process."""

    def __init__(self) -> None:
        self._listeners: set[asyncio.Queue[BusMessage]] = set()

    async def publish(
        self, channel: str, data: dict[str, Any], traceparent: str | None = None
    ) -> None:
        # What Redis would carry: a JSON copy (non-JSON data fails here, as it would there).
        message = BusMessage(channel, json.loads(json.dumps(data)), traceparent)
        for queue in list(self._listeners):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(message)

    async def listen(self) -> AsyncIterator[BusMessage]:
        queue: asyncio.Queue[BusMessage] = asyncio.Queue(QUEUE_LIMIT)
        self._listeners.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.discard(queue)

    @property
    def healthy(self) -> bool:
        return True
