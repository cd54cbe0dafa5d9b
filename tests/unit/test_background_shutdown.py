"""A worker told to stop (SIGTERM) stops, even when a cancellation gets lost.

A cancellation that lands inside SQLAlchemy/asyncpg work can be swallowed (asyncpg#873):
the cancelled task carries on. The outbox relay and the dead-letter consumer used to be
stopped by cancellation, and a swallowed one held the worker's shutdown until SIGKILL
(seen in CI: "did not stop on SIGTERM"). These fakes swallow cancellations the same way.
"""

import asyncio
import time
from typing import Any

import pytest

from application.images.policy import ImagePolicy
from application.ports.images import ReceivedJob
from entrypoints.image_worker.worker import ImageWorker
from entrypoints.wiring import background
from entrypoints.wiring.background import OutboxRelayRunner, WakeupEvent


async def deaf_to_cancellation(seconds: float) -> None:
    """Sleeps, and carries on if cancelled meanwhile (what asyncpg#873 does)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            await asyncio.sleep(left)
        except asyncio.CancelledError:
            continue


class SlowRelay:
    """A relay round that takes `seconds` and cannot be cancelled."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.rounds = seconds, 0

    async def __call__(self) -> int:
        self.rounds += 1
        await deaf_to_cancellation(self.seconds)
        return 0


async def stops_within(seconds: float, stopping: Any) -> float:
    started = time.monotonic()
    async with asyncio.timeout(seconds):
        await stopping
    return time.monotonic() - started


async def test_the_relay_stops_after_its_round_and_flushes_once_more() -> None:
    relay = SlowRelay(0.2)
    runner = OutboxRelayRunner(relay, WakeupEvent(), interval=0.01)  # type: ignore[arg-type]

    async def run_and_stop() -> None:
        async with runner.running():
            await asyncio.sleep(0.1)  # a round is in progress
        assert relay.rounds == 2  # that round, then the final flush

    assert await stops_within(3, run_and_stop()) < 1.5


async def test_a_relay_round_that_never_ends_is_abandoned_at_shutdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(background, "FINAL_FLUSH_SECONDS", 0.2)
    relay = SlowRelay(1.5)  # longer than the grace
    runner = OutboxRelayRunner(relay, WakeupEvent(), interval=0.01)  # type: ignore[arg-type]

    async def run_and_stop() -> None:
        async with runner.running():
            await asyncio.sleep(0.05)

    assert await stops_within(3, run_and_stop()) < 1.0
    await asyncio.sleep(1.6)  # let the abandoned rounds end before the loop closes


class FakeQueue:
    """Long polls that wait their full time unless cancelled; one dead letter to record."""

    def __init__(self, jobs: list[ReceivedJob], dead: list[ReceivedJob]) -> None:
        self.jobs, self.dead = jobs, dead
        self.deleted: list[str] = []
        self.parked: list[str] = []

    async def receive(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        if self.jobs:
            taken, self.jobs = self.jobs[:max_jobs], self.jobs[max_jobs:]
            return taken
        await asyncio.sleep(wait_seconds)
        return []

    async def receive_dead(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        if self.dead:
            taken, self.dead = self.dead, []
            return taken
        await asyncio.sleep(wait_seconds)
        return []

    async def change_dead_visibility(self, receipt: str, seconds: float) -> None:
        self.parked.append(receipt)

    async def change_visibility(self, receipt: str, seconds: float) -> None: ...


class Outcome:
    value = "ready"


def worker_with(queue: FakeQueue, process: Any, fail_dead: Any) -> ImageWorker:
    notifications = OutboxRelayRunner(SlowRelay(0), WakeupEvent(), 0.05)  # type: ignore[arg-type]
    return ImageWorker(queue, process, fail_dead, notifications, ImagePolicy(),  # type: ignore[arg-type]
                       concurrency=2, wait_seconds=20)


async def test_stop_during_a_long_poll_returns_at_once_and_drains_the_jobs_in_hand() -> None:
    finished: list[str] = []

    async def process(job: ReceivedJob) -> Outcome:
        await deaf_to_cancellation(0.3)
        finished.append(job.image_id)
        return Outcome()

    async def fail_dead(image_id: str) -> bool:
        return True

    queue = FakeQueue([ReceivedJob("img-1", "r1", 1)], [])
    worker = worker_with(queue, process, fail_dead)
    running = asyncio.create_task(worker.run())
    await asyncio.sleep(0.1)  # img-1 is being generated; the next receive polls for 20 s
    worker.stop()
    assert await stops_within(3, running) < 1.5
    assert finished == ["img-1"]


async def test_stop_while_a_dead_letter_is_being_recorded_waits_for_it_then_returns() -> None:
    recorded: list[str] = []

    async def process(job: ReceivedJob) -> Outcome:
        return Outcome()

    async def fail_dead(image_id: str) -> bool:
        await deaf_to_cancellation(0.3)  # a database call a cancellation cannot stop
        recorded.append(image_id)
        return True

    queue = FakeQueue([], [ReceivedJob("img-dead", "d1", 5)])
    worker = worker_with(queue, process, fail_dead)
    running = asyncio.create_task(worker.run())
    await asyncio.sleep(0.1)
    worker.stop()
    assert await stops_within(3, running) < 1.5
    assert recorded == ["img-dead"] and queue.parked == ["d1"]


async def test_a_stuck_shutdown_reports_where_each_task_waits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from entrypoints.image_worker.main import _report_stuck

    release = asyncio.Event()

    async def inner_wait() -> None:
        await release.wait()

    async def outer() -> None:
        await inner_wait()

    task = asyncio.create_task(outer(), name="stuck-one")
    await asyncio.sleep(0)
    with caplog.at_level("WARNING", logger="atelier.worker"):
        _report_stuck()
    release.set()
    await task
    [line] = [r.getMessage() for r in caplog.records if "stuck-one" in r.getMessage()]
    assert "inner_wait" in line and "outer" in line
