"""Image pipeline benchmarks (not collected by default):

    uv run pytest tests/bench/test_images_bench.py -s -p no:cacheprovider

Worker throughput with an instant generator, as a ratio to the bare queue round trip
(send + receive + delete, one at a time) on the same queue in the same run, on the memory
queue and on SQS (moto); and the end-to-end request -> `image.ready` latency (median).
"""

import asyncio
import secrets
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from adapters.aws.sqs_job_queue import SqsJobQueue, create_queues
from adapters.memory.job_queue import InMemoryJobQueue
from adapters.memory.object_store import InMemoryObjectStore
from application.images.fail_dead_job import FailDeadJob
from application.images.policy import ImagePolicy
from application.images.process_image_job import ProcessImageJob
from application.images.relay_outbox import RelayOutbox
from application.ports.images import JobQueue
from domain.images.model import ImageJob
from domain.images.options import ImageRequest
from domain.users.model import User
from entrypoints.image_worker.worker import ImageWorker
from entrypoints.wiring.background import OutboxRelayRunner, WakeupEvent
from tests.fixtures.aws import Aws
from tests.support.images import FAST, RecordingBus, request_image, running_worker
from tests.support.phone import new_guest
from tests.support.stack import running_stack

JOBS = 200


def _utcnow() -> datetime:
    return datetime.now(UTC)


class InstantGenerator:
    async def generate(self, request: ImageRequest) -> bytes:
        return b"\x89PNG instant"


async def round_trips(queue: JobQueue, count: int) -> float:
    """Messages per second through send -> receive -> delete, one at a time."""
    started = time.perf_counter()
    for n in range(count):
        await queue.send(f"rt-{n}")
        received = []
        while not received:
            received = await queue.receive(1, 1)
        await queue.delete(received[0].receipt)
    return count / (time.perf_counter() - started)


async def sqlite_uow(tmp_path: Path) -> Any:
    from adapters.sql.engine import create_engine
    from adapters.sql.migrate import upgrade_database
    from adapters.sql.unit_of_work import sql_unit_of_work_factory

    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"
    await upgrade_database(url)
    return sql_unit_of_work_factory(create_engine(url))


async def worker_throughput(
    queue: JobQueue, count: int, uow: Any, concurrency: int = 4
) -> float:
    """Jobs per second through the whole worker: receive, start (a transaction), generate
    (instantly), store (memory), finish with its outbox rows (a transaction), delete."""
    now = datetime.now(UTC)
    user = User.new_guest("bench-user", now)
    async with uow() as unit:
        await unit.users.add(user)
        for n in range(count):
            await unit.images.add(ImageJob.request(
                f"img-{n}", user.id, ImageRequest.parse(f"fox {n}", None, None), now))
        await unit.commit()
    for n in range(count):
        await queue.send(f"img-{n}")
    policy = ImagePolicy()
    wakeup = WakeupEvent()
    process = ProcessImageJob(uow, queue, InstantGenerator(), InMemoryObjectStore(), policy,
                              _utcnow, wakeup)
    relay = OutboxRelayRunner(RelayOutbox(uow, {}, _utcnow), wakeup, 60)
    worker = ImageWorker(queue, process, FailDeadJob(uow, _utcnow),
                         relay, policy, concurrency=concurrency, wait_seconds=1)
    started = time.perf_counter()
    async with worker.running():
        while worker.processed < count:
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
    return count / elapsed


def report(name: str, bare: float, worker: float) -> None:
    print(f"\n[bench] {name}: bare round trip {bare:,.0f} msg/s; worker (instant generator, "
          f"concurrency 4) {worker:,.0f} jobs/s; ratio {worker / bare:.2f}")


async def test_worker_throughput_on_the_memory_queue(tmp_path: Path) -> None:
    bare = await round_trips(InMemoryJobQueue(30, 5), 2000)
    worker = await worker_throughput(InMemoryJobQueue(30, 5), JOBS, await sqlite_uow(tmp_path))
    report("memory queue, SQLite database", bare, worker)


@pytest.mark.moto
async def test_worker_throughput_on_sqs(aws: Aws, tmp_path: Path) -> None:
    async with aws.session.client("sqs", region_name=aws.region, endpoint_url=aws.endpoint_url,
                                  config=Config(retries={"max_attempts": 1})) as client:
        url, _ = await create_queues(client, f"bench-{secrets.token_hex(3)}", 5, 30)
        queue = await SqsJobQueue.connect(client, url, None, 30)
        bare = await round_trips(queue, 100)
        worker = await worker_throughput(queue, JOBS, await sqlite_uow(tmp_path))
    report("SQS (moto), SQLite database", bare, worker)


@pytest.mark.parametrize("database", ["sqlite"])
async def test_request_to_image_ready_latency(tmp_path: Path, database: str) -> None:
    from adapters.sql.migrate import upgrade_database

    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    bus = RecordingBus()
    samples: list[float] = []
    async with running_stack(tmp_path / "data", url, image_quota_guest_per_day=1000,
                             **FAST) as stack, running_worker(stack.settings, bus):
        tokens: dict[str, Any] = (await new_guest(stack.client))["tokens"]
        for n in range(20):
            started = time.perf_counter()
            image_id = (await request_image(stack.client, tokens, f"fox {n}")).json()["id"]
            while not bus.ready_for(image_id):
                await asyncio.sleep(0.002)
            samples.append((time.perf_counter() - started) * 1000)
    print(f"\n[bench] request -> image.ready (SQLite, local queue, Pillow generator): median "
          f"{statistics.median(samples):.0f} ms, p90 {sorted(samples)[17]:.0f} ms, "
          f"n={len(samples)}")
