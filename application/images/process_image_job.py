import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from enum import StrEnum

from application.images.policy import IMAGE_READY, IMAGE_READY_EMAIL, ImagePolicy
from application.ports.clock import Clock
from application.ports.images import (
    ImageGenerator,
    JobQueue,
    ObjectStore,
    OutboxMessage,
    PermanentGenerationError,
    ReceivedJob,
    RetryableGenerationError,
    Wakeup,
)
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.images.model import ImageJob, ImageStatus, object_key_for
from domain.images.options import ImageRequest
from domain.shared.ids import new_id

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    READY = "ready"
    FAILED = "failed"
    RETRY = "retry"
    SKIPPED = "skipped"
    """Already finished, deleted or unknown: acknowledged, nothing changed."""


class ProcessImageJob:
    """One delivery of a job: generate, store under a deterministic key, then mark ready
    and queue the notifications in one transaction. A redelivered job that is already
    done is acknowledged and changes nothing, so the effect happens once."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, queue: JobQueue, generator: ImageGenerator,
        store: ObjectStore, policy: ImagePolicy, clock: Clock, notifications: Wakeup,
    ) -> None:
        self._uow_factory, self._queue, self._generator = uow_factory, queue, generator
        self._store, self._policy, self._clock = store, policy, clock
        self._notifications = notifications

    async def __call__(self, received: ReceivedJob) -> Outcome:
        job = await self._start(received.image_id)
        if job is None:
            await self._queue.delete(received.receipt)
            return Outcome.SKIPPED
        key = object_key_for(job.user_id, job.id)
        try:
            async with self._kept_invisible(received):
                wanted = ImageRequest(job.prompt, job.size, job.quality)
                png = await self._generator.generate(wanted)
                await self._store.put(key, png, "image/png")
        except PermanentGenerationError as refused:
            await self._fail(job.id, str(refused))
            await self._queue.delete(received.receipt)
            return Outcome.FAILED
        except RetryableGenerationError as busy:
            delay = self._policy.retry_delay(received.receive_count, busy.retry_after)
            log.warning("image %s: %s; retrying in %.0f s (receive %d)",
                        job.id, busy, delay, received.receive_count)
            await self._queue.change_visibility(received.receipt, delay)
            return Outcome.RETRY
        outcome = await self._finish(job.id, key, received.traceparent)
        await self._queue.delete(received.receipt)
        if outcome is Outcome.READY:
            self._notifications.wake()
        return outcome

    async def _start(self, image_id: str) -> ImageJob | None:
        async with self._uow_factory() as uow:
            job = await uow.images.get_for_update(image_id)
            if job is None or job.is_finished:
                return None
            job.start(self._clock())
            await uow.images.update(job)
            await uow.commit()
        return job

    async def _finish(self, image_id: str, key: str, traceparent: str | None) -> Outcome:
        async with self._uow_factory() as uow:
            job = await uow.images.get_for_update(image_id)
            if job is None or job.status is ImageStatus.DELETED:
                await self._store.delete(key)  # deleted while it was being drawn
                return Outcome.SKIPPED
            if job.status is not ImageStatus.GENERATING:
                return Outcome.SKIPPED  # another delivery finished it first
            now = self._clock()
            ready = job.complete(key, now)
            await uow.images.update(job)
            payload = {"image_id": ready.image_id, "user_id": ready.user_id,
                       "object_key": ready.object_key}
            if traceparent is not None:  # the notifications continue the job's trace
                payload["traceparent"] = traceparent
            await uow.outbox.add(OutboxMessage(new_id(), IMAGE_READY, payload, now))
            owner = await uow.users.get(ready.user_id)
            if owner and owner.notify_by_email and owner.email and owner.email_confirmed:
                await uow.outbox.add(OutboxMessage(
                    new_id(), IMAGE_READY_EMAIL, {**payload, "email": owner.email,
                                                  "prompt": job.prompt[:200]}, now))
            await uow.commit()
        return Outcome.READY

    async def _fail(self, image_id: str, reason: str) -> None:
        async with self._uow_factory() as uow:
            job = await uow.images.get_for_update(image_id)
            if job is None or job.is_finished:
                return
            job.fail(reason, self._clock())
            await uow.images.update(job)
            await uow.commit()

    @contextlib.asynccontextmanager
    async def _kept_invisible(self, received: ReceivedJob) -> AsyncIterator[None]:
        """Extends the delivery's visibility while the generation runs."""
        timeout = self._policy.visibility_timeout

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(timeout / 3)
                try:
                    await self._queue.change_visibility(received.receipt, timeout)
                except Exception as error:  # the next beat tries again
                    log.warning("could not extend visibility of %s: %r",
                                received.image_id, error)

        task = asyncio.create_task(heartbeat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
