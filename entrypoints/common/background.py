"""Background loops an entrypoint runs beside its main work (the outbox relay)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from application.images.relay_outbox import RelayIncomplete, RelayOutbox

log = logging.getLogger("atelier.outbox")

MAX_BACKOFF = 30.0
FINAL_FLUSH_SECONDS = 5.0


class WakeupEvent:
    """The Wakeup port over an asyncio.Event: a loop sleeping on it wakes at once."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, at_most: float) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # lands as the event fires, and the relay would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                await self._event.wait()
        self._event.clear()


class OutboxRelayRunner:
    """Runs a RelayOutbox every `interval` seconds, or at once when woken; backs off
    while a destination is down."""

    def __init__(self, relay: RelayOutbox, wakeup: WakeupEvent, interval: float) -> None:
        self._relay, self._wakeup, self._interval = relay, wakeup, interval

    async def run_once(self) -> int:
        try:
            return await self._relay()
        except RelayIncomplete as partial:
            return partial.delivered
        except Exception:
            log.exception("outbox relay round failed")
            return 0

    async def run(self) -> None:
        pause = self._interval
        while True:
            try:
                await self._relay()
                pause = self._interval
            except RelayIncomplete:
                pause = min(MAX_BACKOFF, pause * 2)
            except Exception:
                log.exception("outbox relay round failed; backing off")
                pause = min(MAX_BACKOFF, pause * 2)
            await self._wakeup.wait(pause)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run(), name="outbox-relay")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # What the last moments committed goes out before exit, but a destination that
            # is down cannot hold a shutdown hostage: undelivered rows wait in the outbox.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FINAL_FLUSH_SECONDS):
                    await self.run_once()
