"""The image worker: long-polls the job queue, runs jobs under a concurrency limit, marks
dead-lettered jobs failed, relays the notifications (and data exports), and drains on SIGTERM."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import replace
from typing import Protocol

from opentelemetry.trace import SpanKind, Status, StatusCode, get_current_span

from application.images.fail_dead_job import FailDeadJob
from application.images.policy import ImagePolicy
from application.images.process_image_job import ProcessImageJob
from application.ports.images import JobQueue, ReceivedJob
from entrypoints.wiring.background import OutboxRelayRunner
from entrypoints.wiring.tracing import context_from, current_traceparent, tracer

log = logging.getLogger("atelier.worker")

PARKED_SECONDS = 43200  # a dead letter, once recorded, stays for operators to inspect
ERROR_PAUSE = 1.0
MAX_ERROR_PAUSE = 30.0


class JobMetrics(Protocol):
    def job_finished(self, outcome: str) -> None:
        """`outcome`: ready, failed, retry, skipped (what the job did), error (an exception:
        the job comes back), dropped (unreadable), dead_lettered."""


class ImageWorker:
    def __init__(
        self, queue: JobQueue, process: ProcessImageJob, fail_dead: FailDeadJob,
        notifications: OutboxRelayRunner, policy: ImagePolicy, *, concurrency: int = 4,
        wait_seconds: float = 20.0, relays: Sequence[OutboxRelayRunner] = (),
        metrics: JobMetrics | None = None,
    ) -> None:
        self._queue, self._process, self._fail_dead = queue, process, fail_dead
        self._notifications, self._policy = notifications, policy
        self._relays = tuple(relays)  # other outbox topics this worker delivers (exports)
        self._concurrency, self._wait = max(1, concurrency), wait_seconds
        self._slots = asyncio.Semaphore(self._concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.processed = 0
        self._metrics = metrics

    def stop(self) -> None:
        """Stop receiving; what is in flight finishes."""
        self._stopping.set()

    async def run(self) -> None:
        """Until stop(): consume jobs and dead letters; then drain and return.

        The consumers end by checking the stop, not by cancellation: only a pending
        receive (an HTTP long poll) is ever cancelled. A cancellation landing in database
        work can be swallowed (asyncpg#873), and a consumer cancelled there kept looping."""
        async with contextlib.AsyncExitStack() as relays:
            for relay in (self._notifications, *self._relays):
                await relays.enter_async_context(relay.running())
            consumers = [asyncio.create_task(self._consume(), name="jobs"),
                         asyncio.create_task(self._consume_dead(), name="dead-letters")]
            await self._stopping.wait()
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
        while not self._stopping.is_set():
            free = await self._free_slots()
            if self._stopping.is_set():
                self._release(free)
                break
            try:
                jobs = await self._unless_stopped(self._queue.receive(free, self._wait))
            except Exception as error:
                self._release(free)
                log.warning("receiving jobs failed: %r; again in %.0f s", error, pause)
                await self._sleep_unless_stopped(pause)
                pause = min(MAX_ERROR_PAUSE, pause * 2)
                continue
            except BaseException:
                self._release(free)
                raise
            pause = ERROR_PAUSE
            self._release(free - len(jobs))
            for job in jobs:
                task = asyncio.create_task(self._handle_in_span(job))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    async def _free_slots(self) -> int:
        """Waits for one free slot, then takes every other free one."""
        await self._slots.acquire()
        free = 1
        while free < self._concurrency and not self._slots.locked():
            await self._slots.acquire()
            free += 1
        return free

    async def _unless_stopped(self, receive: Awaitable[list[ReceivedJob]]) -> list[ReceivedJob]:
        """The receive's jobs, or none once stop() is called while it waits (the receive
        is cancelled: a message it had taken comes back after its visibility timeout)."""
        receiving = asyncio.ensure_future(receive)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if receiving.done():
            return receiving.result()
        receiving.cancel()
        await asyncio.wait({receiving}, timeout=1.0)
        return []

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({stopping}, timeout=seconds)
        finally:
            stopping.cancel()

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._slots.release()

    async def _handle(self, job: ReceivedJob) -> None:
        try:
            if not job.image_id:
                log.error("unreadable job message acknowledged and dropped")
                await self._queue.delete(job.receipt)
                self._count("dropped")
                return
            outcome = await self._process(job)
            get_current_span().set_attribute("image.outcome", outcome.value)
            self.processed += 1
            self._count(outcome.value)
            log.info("image %s: %s (receive %d)", job.image_id, outcome.value, job.receive_count)
        except Exception:
            # A bug or an outage (database, store): the job comes back after a pause, and
            # past the receive limit it lands in the dead-letter queue.
            log.exception("image %s failed on receive %d", job.image_id, job.receive_count)
            get_current_span().set_status(Status(StatusCode.ERROR, "failed; it comes back"))
            self._count("error")
            with contextlib.suppress(Exception):
                await self._queue.change_visibility(
                    job.receipt, self._policy.retry_delay(job.receive_count, None))
        finally:
            self._slots.release()

    async def _handle_in_span(self, job: ReceivedJob) -> None:
        """`image.process` continues the request's trace (its log lines carry the trace id);
        the job then carries this span's context, which its notifications continue."""
        with tracer().start_as_current_span(
                "image.process", context=context_from(job.traceparent), kind=SpanKind.CONSUMER,
                attributes={"image.id": job.image_id,
                            "messaging.message.delivery_count": job.receive_count}):
            await self._handle(replace(job, traceparent=current_traceparent() or job.traceparent))

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.job_finished(outcome)

    async def _consume_dead(self) -> None:
        pause = ERROR_PAUSE
        while not self._stopping.is_set():
            try:
                for dead in await self._unless_stopped(
                        self._queue.receive_dead(10, self._wait)):
                    if dead.image_id and await self._fail_dead(dead.image_id):
                        log.error("image %s dead-lettered: marked failed", dead.image_id)
                        self._count("dead_lettered")
                    await self._queue.change_dead_visibility(dead.receipt, PARKED_SECONDS)
                pause = ERROR_PAUSE
            except Exception as error:
                log.warning("dead-letter consumer: %r; again in %.0f s", error, pause)
                await self._sleep_unless_stopped(pause)
                pause = min(MAX_ERROR_PAUSE, pause * 2)
