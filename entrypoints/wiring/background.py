"""Background loops an entrypoint runs beside its main work (the outbox relay)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from application.auth.session_events import RevocableKeys, follow_revocations
from application.images.relay_outbox import RelayIncomplete, RelayOutbox
from application.ports.messaging import AuthCache, RealtimeBus

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
    while a destination is down.

    It stops by being told, not by cancellation: a cancellation that lands inside a
    SQLAlchemy/asyncpg call can be swallowed (asyncpg#873), and a cancelled relay then
    went on looping, holding the worker's shutdown until SIGKILL."""

    def __init__(self, relay: RelayOutbox, wakeup: WakeupEvent, interval: float) -> None:
        self._relay, self._wakeup, self._interval = relay, wakeup, interval
        self._stopping = False

    async def run_once(self) -> int:
        try:
            return await self._relay()
        except RelayIncomplete as partial:
            return partial.delivered
        except Exception:
            log.exception("outbox relay round failed")
            return 0

    async def run(self) -> None:
        """Rounds until stop(); the round in progress then finishes."""
        pause = self._interval
        while not self._stopping:
            try:
                await self._relay()
                pause = self._interval
            except RelayIncomplete:
                pause = min(MAX_BACKOFF, pause * 2)
            except Exception:
                log.exception("outbox relay round failed; backing off")
                pause = min(MAX_BACKOFF, pause * 2)
            if not self._stopping:
                await self._wakeup.wait(pause)

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.wake()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._stopping = False
        task = asyncio.create_task(self.run(), name="outbox-relay")
        try:
            yield
        finally:
            self.stop()
            # The round in progress is bounded by the database's statement timeout and the
            # destinations' timeouts; past this grace it is abandoned (and cancelled).
            await finish_or_abandon(task, FINAL_FLUSH_SECONDS)
            # What the last moments committed goes out before exit, but a destination that
            # is down cannot hold a shutdown hostage: undelivered rows wait in the outbox.
            await finish_or_abandon(
                asyncio.create_task(self.run_once(), name="outbox-final-flush"),
                FINAL_FLUSH_SECONDS)


class RevocationFollower:
    """For the life of an app: forgets users whose sessions ended and keys revoked
    elsewhere (`internal:auth`, `internal:keys` on the realtime bus)."""

    def __init__(
        self, bus: RealtimeBus, cache: AuthCache | None, keys: RevocableKeys | None
    ) -> None:
        self._bus, self._cache, self._keys = bus, cache, keys

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(
            follow_revocations(self._bus, self._cache, self._keys), name="revocations")
        await asyncio.sleep(0)  # let it subscribe before the app takes requests
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def finish_or_abandon(task: "asyncio.Task[object]", within: float) -> bool:
    """Waits for `task` at most `within` seconds without relying on cancellation to end
    the wait; a task still running then is cancelled and left behind. True if it ended."""
    done, _ = await asyncio.wait({task}, timeout=within)
    if done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            log.error("%s ended with %r", task.get_name(), error)
        return True
    log.warning("%s still running after %.0f s at shutdown; abandoned", task.get_name(),
                within)
    task.cancel()
    return False
