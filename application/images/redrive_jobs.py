"""Failed image jobs, listed and sent back to the work queue by an operator."""

from collections.abc import Callable
from dataclasses import dataclass, field

from application.images.fail_dead_job import GAVE_UP
from application.ports.clock import Clock
from application.ports.images import JobQueue
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.images.model import ImageJob, ImageStatus

BATCH = 10  # SQS's largest receive
HELD_SECONDS = 300  # a dead letter stays hidden from the worker while it is looked at

Progress = Callable[[int], None]


def _silent(done: int) -> None:
    return None


class ListJobs:
    """Jobs in one state (failed ones, or those waiting), the longest unchanged first."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, status: ImageStatus, limit: int) -> list[ImageJob]:
        async with self._uow_factory() as uow:
            return await uow.images.list_by_status(status, limit)


def retryable(job: ImageJob) -> bool:
    """A job that gave up after its retries may succeed now; a refused prompt would not."""
    return job.status is ImageStatus.FAILED and job.failure_reason == GAVE_UP


@dataclass
class Redrive:
    """What a redrive sent back (image ids) and the dead letters it dropped because their job
    had finished another way."""

    sent: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


class RedriveJobs:
    """Sends jobs back to the work queue: the dead-letter queue's messages first, then the
    jobs marked as given up whose dead letter the worker has already recorded and parked.
    Each job is queued again in the database before its message is sent, so the worker
    never sees a message for a job still marked failed."""

    def __init__(self, uow_factory: UnitOfWorkFactory, queue: JobQueue, clock: Clock) -> None:
        self._uow_factory, self._queue, self._clock = uow_factory, queue, clock

    async def __call__(
        self, limit: int, dry_run: bool = False, progress: Progress = _silent
    ) -> Redrive:
        done = Redrive()
        held: list[str] = []
        while len(done.sent) + len(done.dropped) < limit:
            letters = await self._queue.receive_dead(
                min(BATCH, limit - len(done.sent) - len(done.dropped)), 0)
            if not letters:
                break
            for letter in letters:
                await self._queue.change_dead_visibility(letter.receipt, HELD_SECONDS)
                wanted = await self._requeue(letter.image_id, dry_run, was_dead_letter=True)
                (done.sent if wanted else done.dropped).append(letter.image_id)
                if dry_run:
                    held.append(letter.receipt)
                    continue
                if wanted:  # the redriven job stays in the trace of the request that made it
                    await self._queue.send(letter.image_id, letter.traceparent)
                await self._queue.delete_dead(letter.receipt)
                progress(len(done.sent))
        for receipt in held:  # a dry run leaves the dead letters as it found them
            await self._queue.change_dead_visibility(receipt, 0)
        for job in await self._given_up(limit - len(done.sent) - len(done.dropped)):
            if job.id in done.sent or not await self._requeue(job.id, dry_run):
                continue
            if not dry_run:
                await self._queue.send(job.id)
            done.sent.append(job.id)
            progress(len(done.sent))
        return done

    async def _given_up(self, limit: int) -> list[ImageJob]:
        if limit <= 0:
            return []
        async with self._uow_factory() as uow:
            failed = await uow.images.list_by_status(ImageStatus.FAILED, limit * 10)
        return [job for job in failed if retryable(job)][:limit]

    async def _requeue(self, image_id: str, dry_run: bool, was_dead_letter: bool = False) -> bool:
        """Whether the job wants its message: queued again if it gave up, or never told
        it died (no worker read the dead letter yet)."""
        async with self._uow_factory() as uow:
            job = await uow.images.get_for_update(image_id) if image_id else None
            if job is None:
                return False
            if was_dead_letter and job.status in (ImageStatus.QUEUED, ImageStatus.GENERATING):
                return True
            if not retryable(job):
                return False
            if not dry_run:
                job.requeue(self._clock())
                await uow.images.update(job)
                await uow.commit()
        return True
