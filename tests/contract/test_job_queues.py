"""One contract for every JobQueue: memory, the durable SQLite queue, SQS (moto)."""

import asyncio
import inspect
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botocore.config import Config

from adapters.aws.sqs_job_queue import SqsJobQueue, create_queues
from adapters.local.job_queue import SqliteJobQueue
from adapters.memory.job_queue import InMemoryJobQueue
from application.ports.images import JobQueue
from tests.fixtures.aws import Aws

VISIBILITY, MAX_RECEIVES = 1, 2


@pytest.fixture(params=["memory", "sqlite", pytest.param("sqs", marks=pytest.mark.moto)])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobQueue]:
    if request.param == "memory":
        yield InMemoryJobQueue(VISIBILITY, MAX_RECEIVES)
    elif request.param == "sqlite":
        local = SqliteJobQueue(tmp_path / "queue.sqlite3", VISIBILITY, MAX_RECEIVES)
        yield local
        local.close()
    else:
        aws: Aws = request.getfixturevalue("aws")
        async with aws.session.client("sqs", region_name=aws.region,
                                      endpoint_url=aws.endpoint_url,
                                      config=Config(retries={"max_attempts": 1})) as client:
            url, _ = await create_queues(client, f"jobs-{secrets.token_hex(4)}", MAX_RECEIVES,
                                         VISIBILITY)
            yield await SqsJobQueue.connect(client, url, None, VISIBILITY)


async def test_a_sent_job_is_received_once_and_deleted(queue: JobQueue) -> None:
    await queue.send("img-1")
    received = await queue.receive(10, 1)
    assert [(r.image_id, r.receive_count) for r in received] == [("img-1", 1)]
    assert await queue.receive(10, 0) == []  # invisible while in flight
    await queue.delete(received[0].receipt)
    await asyncio.sleep(VISIBILITY + 0.2)
    assert await queue.receive(10, 0) == []


async def test_an_unacknowledged_job_comes_back_after_the_visibility_timeout(
    queue: JobQueue,
) -> None:
    await queue.send("img-2")
    first = await queue.receive(1, 1)
    await asyncio.sleep(VISIBILITY + 0.3)
    again = await queue.receive(1, 1)
    assert [(r.image_id, r.receive_count) for r in again] == [("img-2", 2)]
    await queue.delete(first[0].receipt)  # a stale receipt is not an error
    await queue.delete(again[0].receipt)


async def test_change_visibility_delays_or_releases_a_job(queue: JobQueue) -> None:
    await queue.send("img-3")
    received = (await queue.receive(1, 1))[0]
    await queue.change_visibility(received.receipt, 0)
    back = await queue.receive(1, 1)
    assert [r.image_id for r in back] == ["img-3"]
    await queue.change_visibility(back[0].receipt, 3)  # the heartbeat extends it
    await asyncio.sleep(VISIBILITY + 0.3)
    assert await queue.receive(1, 0) == []
    await queue.delete(back[0].receipt)


async def test_past_the_receive_limit_a_job_lands_in_the_dead_letter_queue(
    queue: JobQueue,
) -> None:
    await queue.send("poison")
    for count in range(1, MAX_RECEIVES + 1):
        received = await queue.receive(1, 1)
        assert [(r.image_id, r.receive_count) for r in received] == [("poison", count)]
        await queue.change_visibility(received[0].receipt, 0)
    assert await queue.receive(1, 1) == []
    dead = await queue.receive_dead(10, 2)
    assert [d.image_id for d in dead] == ["poison"]
    await queue.change_dead_visibility(dead[0].receipt, 60)
    assert await queue.receive_dead(10, 0) == []
    await queue.delete_dead(dead[0].receipt)


async def test_long_polling_answers_as_soon_as_a_job_arrives(queue: JobQueue) -> None:
    async def send_later() -> None:
        await asyncio.sleep(0.3)
        await queue.send("late")

    sender = asyncio.create_task(send_later())
    started = asyncio.get_running_loop().time()
    received = await queue.receive(1, 5)
    waited = asyncio.get_running_loop().time() - started
    await sender
    assert [r.image_id for r in received] == ["late"]
    assert waited < 3


async def test_receive_answers_at_most_the_batch_asked_for(queue: JobQueue) -> None:
    for n in range(5):
        await queue.send(f"img-{n}")
    first = await queue.receive(3, 1)
    assert 1 <= len(first) <= 3
    seen = {r.image_id for r in first}
    for _ in range(10):
        if len(seen) == 5:
            break
        seen |= {r.image_id for r in await queue.receive(3, 1)}
    assert seen == {f"img-{n}" for n in range(5)}


async def test_the_sqlite_queue_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    before = SqliteJobQueue(path, VISIBILITY, MAX_RECEIVES)
    await before.send("kept")
    await before.receive(1, 0)  # in flight when the process dies
    before.close()
    after = SqliteJobQueue(path, VISIBILITY, MAX_RECEIVES)
    await asyncio.sleep(VISIBILITY + 0.2)
    received = await after.receive(1, 1)
    assert [(r.image_id, r.receive_count) for r in received] == [("kept", 2)]
    after.close()


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_the_trace_context_travels_with_the_job(queue: JobQueue) -> None:
    await queue.send("traced", TRACEPARENT)
    await queue.send("untraced")
    seen: dict[str, str | None] = {}
    for _ in range(10):
        if len(seen) == 2:
            break
        seen |= {r.image_id: r.traceparent for r in await queue.receive(10, 1)}
    assert seen == {"traced": TRACEPARENT, "untraced": None}


async def test_depth_counts_jobs_waiting_or_in_flight_and_dead_letters(queue: JobQueue) -> None:
    async def depth() -> tuple[int, int]:
        found = queue.depth()  # type: ignore[attr-defined]
        return await found if inspect.isawaitable(found) else found  # type: ignore[no-any-return]

    assert await depth() == (0, 0)
    for n in range(3):
        await queue.send(f"img-{n}")
    taken = await queue.receive(1, 1)
    await queue.delete(taken[0].receipt)
    await queue.receive(1, 1)  # in flight: still in the queue
    assert await depth() == (2, 0)


async def test_a_dead_letter_keeps_its_trace_context(queue: JobQueue) -> None:
    await queue.send("poison", TRACEPARENT)
    for _ in range(MAX_RECEIVES):
        received = await queue.receive(1, 1)
        assert [r.traceparent for r in received] == [TRACEPARENT]
        await queue.change_visibility(received[0].receipt, 0)
    assert await queue.receive(1, 1) == []
    dead = await queue.receive_dead(1, 2)
    assert [(r.image_id, r.traceparent) for r in dead] == [("poison", TRACEPARENT)]


@pytest.mark.moto
async def test_on_sqs_the_trace_context_is_the_traceparent_message_attribute(aws: Aws) -> None:
    """Where AWS's and OpenTelemetry's tools look for it: a String message attribute."""
    async with aws.client("sqs") as client:
        url, dead_url = await create_queues(client, f"jobs-{secrets.token_hex(4)}", 2, 1)
        await SqsJobQueue(client, url, dead_url, 1).send("img-9", TRACEPARENT)
        raw = await client.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                                           WaitTimeSeconds=1)
    [message] = raw["Messages"]
    assert message["MessageAttributes"] == {
        "traceparent": {"DataType": "String", "StringValue": TRACEPARENT}}
    assert message["Body"] == '{"image_id": "img-9"}'


async def test_a_sqlite_queue_file_from_before_traces_still_works(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "queue.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE messages (id TEXT PRIMARY KEY, queue TEXT NOT NULL,
            image_id TEXT NOT NULL, visible_at REAL NOT NULL,
            receive_count INTEGER NOT NULL DEFAULT 0, receipt TEXT, sent_at REAL NOT NULL);
        INSERT INTO messages (id, queue, image_id, visible_at, sent_at)
            VALUES ('m1', 'main', 'queued-before', 0, 0);""")
    old.commit()
    old.close()
    queue = SqliteJobQueue(path, VISIBILITY, MAX_RECEIVES)
    try:
        await queue.send("queued-after", TRACEPARENT)
        seen = {r.image_id: r.traceparent for r in await queue.receive(10, 1)}
    finally:
        queue.close()
    assert seen == {"queued-before": None, "queued-after": TRACEPARENT}
