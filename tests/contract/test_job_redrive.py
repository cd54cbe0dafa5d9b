"""`atelier jobs redrive` on every JobQueue (memory, the SQLite queue, SQS on moto): dead
letters and given-up jobs go back to the work queue, and a redriven job ends ready."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.object_store import InMemoryObjectStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from application.images.fail_dead_job import FailDeadJob
from application.images.policy import ImagePolicy
from application.images.process_image_job import Outcome, ProcessImageJob
from application.images.redrive_jobs import RedriveJobs
from application.ports.images import JobQueue
from domain.images.model import ImageJob, ImageStatus
from domain.images.options import ImageQuality, ImageRequest, ImageSize
from domain.users.model import User
from tests.contract.test_job_queues import MAX_RECEIVES, queue  # noqa: F401 - the fixture

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
PARKED = 43200  # what the worker does with a dead letter it has recorded


class Generator:
    async def generate(self, request: ImageRequest) -> bytes:
        return b"\x89PNG redriven"


class Wakeups:
    def wake(self) -> None:
        return None


@dataclass
class Stack:
    queue: JobQueue
    uow: InMemoryUnitOfWorkFactory

    async def job(self, image_id: str) -> ImageJob:
        async with self.uow() as uow:
            if await uow.users.get("owner") is None:
                await uow.users.add(User.new_guest("owner", T0))
            job = ImageJob.request(image_id, "owner",
                                   ImageRequest("a red fox", ImageSize.SQUARE, ImageQuality.LOW),
                                   T0)
            await uow.images.add(job)
            await uow.commit()
        return job

    async def dead_letter(self, image_id: str, traceparent: str | None = None) -> None:
        """Sent, then received and released until the queue gives up on it."""
        await self.queue.send(image_id, traceparent)
        for _ in range(MAX_RECEIVES):
            received = await self.queue.receive(1, 1)
            assert [r.image_id for r in received] == [image_id]
            await self.queue.change_visibility(received[0].receipt, 0)
        assert await self.queue.receive(1, 0) == []

    async def status(self, image_id: str) -> ImageStatus:
        async with self.uow() as uow:
            job = await uow.images.get(image_id)
        assert job is not None
        return job.status

    def redrive(self) -> RedriveJobs:
        return RedriveJobs(self.uow, self.queue, lambda: T0)


@pytest.fixture
def stack(queue: JobQueue) -> Stack:  # noqa: F811 - the imported fixture
    return Stack(queue, InMemoryUnitOfWorkFactory(InMemoryDatabase()))


async def test_a_dead_letter_goes_back_to_the_work_queue_in_its_trace(stack: Stack) -> None:
    await stack.job("img-dead")
    await stack.dead_letter("img-dead", TRACEPARENT)
    done = await stack.redrive()(limit=100)
    assert (done.sent, done.dropped) == (["img-dead"], [])
    received = await stack.queue.receive(10, 1)
    assert [(r.image_id, r.receive_count, r.traceparent) for r in received] == [
        ("img-dead", 1, TRACEPARENT)]
    assert await stack.queue.receive_dead(10, 0) == []


async def test_a_job_the_worker_gave_up_on_is_queued_again_and_ends_ready(stack: Stack) -> None:
    await stack.job("img-given-up")
    await stack.dead_letter("img-given-up")
    letter = (await stack.queue.receive_dead(1, 1))[0]
    assert await FailDeadJob(stack.uow, lambda: T0)("img-given-up")
    await stack.queue.change_dead_visibility(letter.receipt, PARKED)
    assert await stack.status("img-given-up") is ImageStatus.FAILED

    done = await stack.redrive()(limit=100)
    assert done.sent == ["img-given-up"]
    assert await stack.status("img-given-up") is ImageStatus.QUEUED
    received = await stack.queue.receive(1, 1)
    assert [r.image_id for r in received] == ["img-given-up"]

    process = ProcessImageJob(stack.uow, stack.queue, Generator(), InMemoryObjectStore(),
                              ImagePolicy(), lambda: T0, Wakeups())
    assert await process(received[0]) is Outcome.READY
    assert await stack.status("img-given-up") is ImageStatus.READY


async def test_a_dry_run_changes_nothing(stack: Stack) -> None:
    await stack.job("img-waiting")
    await stack.dead_letter("img-waiting")
    await stack.job("img-failed")
    assert await FailDeadJob(stack.uow, lambda: T0)("img-failed")

    done = await stack.redrive()(limit=100, dry_run=True)
    assert sorted(done.sent) == ["img-failed", "img-waiting"]
    assert await stack.status("img-failed") is ImageStatus.FAILED
    assert await stack.queue.receive(10, 0) == []
    assert [d.image_id for d in await stack.queue.receive_dead(10, 1)] == ["img-waiting"]


async def test_finished_and_refused_jobs_stay_where_they_are(stack: Stack) -> None:
    refused = await stack.job("img-refused")
    async with stack.uow() as uow:
        refused.fail("the prompt was refused", T0)
        await uow.images.update(refused)
        await uow.commit()
    await stack.job("img-gone")
    await stack.dead_letter("img-gone")
    async with stack.uow() as uow:
        gone = await uow.images.get_for_update("img-gone")
        assert gone is not None
        gone.delete(T0)
        await uow.images.update(gone)
        await uow.commit()

    done = await stack.redrive()(limit=100)
    assert (done.sent, done.dropped) == ([], ["img-gone"])
    assert await stack.status("img-refused") is ImageStatus.FAILED
    assert await stack.queue.receive(10, 0) == []
    assert await stack.queue.receive_dead(10, 0) == []


async def test_the_limit_caps_one_run(stack: Stack) -> None:
    for n in range(3):
        await stack.job(f"img-{n}")
        assert await FailDeadJob(stack.uow, lambda: T0)(f"img-{n}")
    progress: list[int] = []
    first = await stack.redrive()(limit=2, progress=progress.append)
    assert len(first.sent) == 2 and progress == [1, 2]
    second = await stack.redrive()(limit=2)
    assert len(second.sent) == 1 and set(first.sent) | set(second.sent) == {
        "img-0", "img-1", "img-2"}
