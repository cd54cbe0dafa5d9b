import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from application.ports.images import ReceivedJob

POLL = 0.02


@dataclass
class _Message:
    image_id: str
    visible_at: float
    receive_count: int = 0
    receipt: str | None = None
    traceparent: str | None = None


class InMemoryJobQueue:
    """SQS semantics in one process (visibility timeout, redelivery, a dead-letter queue
    after `max_receives`), for tests; nothing survives the process."""

    def __init__(
        self, visibility_timeout: float = 30.0, max_receives: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._visibility, self._max_receives, self._clock = (
            visibility_timeout, max_receives, clock)
        self._main: dict[str, _Message] = {}
        self._dead: dict[str, _Message] = {}
        self._arrived = asyncio.Event()

    async def send(self, image_id: str, traceparent: str | None = None) -> None:
        self._main[secrets.token_hex(8)] = _Message(
            image_id, self._clock(), traceparent=traceparent)
        self._arrived.set()

    async def receive(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        return await self._poll(self._main, max_jobs, wait_seconds, redrive=True)

    async def receive_dead(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        return await self._poll(self._dead, max_jobs, wait_seconds, redrive=False)

    async def delete(self, receipt: str) -> None:
        self._forget(self._main, receipt)

    async def delete_dead(self, receipt: str) -> None:
        self._forget(self._dead, receipt)

    async def change_visibility(self, receipt: str, seconds: float) -> None:
        self._hide(self._main, receipt, seconds)

    async def change_dead_visibility(self, receipt: str, seconds: float) -> None:
        self._hide(self._dead, receipt, seconds)

    def depth(self) -> tuple[int, int]:
        """(messages in the queue, messages in the dead-letter queue)."""
        return len(self._main), len(self._dead)

    async def _poll(
        self, queue: dict[str, _Message], max_jobs: int, wait: float, redrive: bool
    ) -> list[ReceivedJob]:
        deadline = self._clock() + wait
        while True:
            found = self._take(queue, max_jobs, redrive)
            remaining = deadline - self._clock()
            if found or remaining <= 0:
                return found
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, POLL * 10)):  # not wait_for:
                    await self._arrived.wait()  # it can swallow a cancellation on 3.11

    def _take(self, queue: dict[str, _Message], max_jobs: int, redrive: bool) -> list[ReceivedJob]:
        now = self._clock()
        taken: list[ReceivedJob] = []
        for message_id, message in sorted(queue.items(), key=lambda item: item[1].visible_at):
            if len(taken) >= max_jobs or message.visible_at > now:
                continue
            if redrive and message.receive_count >= self._max_receives:
                del queue[message_id]
                self._dead[message_id] = _Message(
                    message.image_id, now, traceparent=message.traceparent)
                continue
            message.receive_count += 1
            message.receipt = f"{message_id}.{secrets.token_hex(8)}"
            message.visible_at = now + self._visibility
            taken.append(ReceivedJob(message.image_id, message.receipt, message.receive_count,
                                     message.traceparent))
        return taken

    @staticmethod
    def _find(queue: dict[str, _Message], receipt: str) -> str | None:
        message_id = receipt.split(".", 1)[0]
        message = queue.get(message_id)
        return message_id if message is not None and message.receipt == receipt else None

    def _forget(self, queue: dict[str, _Message], receipt: str) -> None:
        message_id = self._find(queue, receipt)
        if message_id is not None:
            del queue[message_id]

    def _hide(self, queue: dict[str, _Message], receipt: str, seconds: float) -> None:
        message_id = self._find(queue, receipt)
        if message_id is not None:
            queue[message_id].visible_at = self._clock() + seconds
            if seconds <= 0:
                self._arrived.set()
