"""The image worker: long-polls the job queue, runs jobs under a concurrency limit, marks
dead-lettered jobs failed, relays the notifications, and drains on SIGTERM."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from application.images.fail_dead_job import FailDeadJob
from application.images.policy import ImagePolicy
from application.images.process_image_job import ProcessImageJob
from application.ports.images import JobQueue, ReceivedJob
from entrypoints.common.background import OutboxRelayRunner

log = logging.getLogger("atelier.worker")

PARKED_SECONDS = 43200  # a dead letter, once recorded, stays for operators to inspect
ERROR_PAUSE = 1.0
MAX_ERROR_PAUSE = 30.0


class ImageWorker:
    def __init__(
        self, queue: JobQueue, process: ProcessImageJob, fail_dead: FailDeadJob,
        notifications: OutboxRelayRunner, policy: ImagePolicy, *, concurrency: int = 4,
        wait_seconds: float = 20.0,
    ) -> None:
        self._queue, self._process, self._fail_dead = queue, process, fail_dead
        self._notifications, self._policy = notifications, policy
        self._concurrency, self._wait = max(1, concurrency), wait_seconds
        self._slots = asyncio.Semaphore(self._concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.processed = 0

    def stop(self) -> None:
        """Stop receiving; what is in flight finishes."""
        self._stopping.set()

    async def run(self) -> None:
        """Until stop(): consume jobs and dead letters; then drain and return."""
        async with self._notifications.running():
            consumers = [asyncio.create_task(self._consume(), name="jobs"),
                         asyncio.create_task(self._consume_dead(), name="dead-letters")]
            await self._stopping.wait()
            for task in consumers:
                task.cancel()
            await asyncio.gather(*consumers, return_exceptions=True)
            if self._in_flight:
                log.info("draining %d job(s) in flight", len(self._in_flight))
                await asyncio.gather(*self._in_flight, return_exceptions=True)
        log.info("worker stopped")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Runs in the background for the block (the embedded default); drains on exit."""
        task = asyncio.create_task(self.run(), name="image-worker")
        try:
            yield
        finally:
            self.stop()
            await task

    async def _consume(self) -> None:
        pause = ERROR_PAUSE
        while True:
            await self._slots.acquire()
            free = 1
            while free < self._concurrency and not self._slots.locked():
                await self._slots.acquire()
                free += 1
            try:
                jobs = await self._queue.receive(free, self._wait)
            except Exception as error:
                self._release(free)
                log.warning("receiving jobs failed: %r; again in %.0f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(MAX_ERROR_PAUSE, pause * 2)
                continue
            except BaseException:
                self._release(free)
                raise
            pause = ERROR_PAUSE
            self._release(free - len(jobs))
            for job in jobs:
                task = asyncio.create_task(self._handle(job))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._slots.release()

    async def _handle(self, job: ReceivedJob) -> None:
        try:
            if not job.image_id:
                log.error("unreadable job message acknowledged and dropped")
                await self._queue.delete(job.receipt)
                return
            outcome = await self._process(job)
            self.processed += 1
            log.info("image %s: %s (receive %d)", job.image_id, outcome.value, job.receive_count)
        except Exception:
            # A bug or an outage (database, store): the job comes back after a pause, and
            # past the receive limit it lands in the dead-letter queue.
            log.exception("image %s failed on receive %d", job.image_id, job.receive_count)
            with contextlib.suppress(Exception):
                await self._queue.change_visibility(
                    job.receipt, self._policy.retry_delay(job.receive_count, None))
        finally:
            self._slots.release()

    async def _consume_dead(self) -> None:
        pause = ERROR_PAUSE
        while True:
            try:
                for dead in await self._queue.receive_dead(10, self._wait):
                    if dead.image_id and await self._fail_dead(dead.image_id):
                        log.error("image %s dead-lettered: marked failed", dead.image_id)
                    await self._queue.change_dead_visibility(dead.receipt, PARKED_SECONDS)
                pause = ERROR_PAUSE
            except Exception as error:
                log.warning("dead-letter consumer: %r; again in %.0f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(MAX_ERROR_PAUSE, pause * 2)
