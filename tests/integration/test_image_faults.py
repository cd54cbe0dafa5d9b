"""Faults with real processes: an `atelier worker` subprocess on PostgreSQL, SQS, S3 and SES
(moto) and Redis, killed, starved of its queue or its database, or fed a poison job."""

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import redis.asyncio as redis_asyncio
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.aws.sqs_job_queue import create_queues
from adapters.sql.tables import images, outbox, users
from application.images.fail_dead_job import GAVE_UP
from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.support.fake_openai import FakeImagesApi, server_error
from tests.support.images import request_image
from tests.support.phone import new_guest
from tests.support.processes import AtelierProcess, TcpProxy, atelier
from tests.support.server import serving
from tests.support.stack import Stack, running_stack

pytestmark = [pytest.mark.postgres, pytest.mark.moto, pytest.mark.redis,
              pytest.mark.timeout(180)]

SENDER = "no-reply@atelier.test"
BUCKET = "atelier-images"


@dataclass
class World:
    tmp: Path
    aws: Aws
    engine: AsyncEngine
    postgres_url: str
    redis_url: str
    queue_url: str
    dead_url: str
    ready_events: list[dict[str, Any]] = field(default_factory=list)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """The mobile API's settings (in this process)."""
        return {"sqs_queue_url": self.queue_url, "s3_bucket": BUCKET,
                "aws_endpoint_url": self.aws.endpoint_url, "ses_sender": SENDER,
                "redis_url": self.redis_url, "outbox_poll_seconds": 0.1, **overrides}

    def worker_env(self, **overrides: Any) -> dict[str, str]:
        values = {
            "DATABASE_URL": self.postgres_url, "SQS_QUEUE_URL": self.queue_url,
            "S3_BUCKET": BUCKET, "AWS_ENDPOINT_URL": self.aws.endpoint_url,
            "SES_SENDER": SENDER, "REDIS_URL": self.redis_url,
            "DATA_DIR": str(self.tmp / "worker"), "JOB_VISIBILITY_TIMEOUT_SECONDS": "2",
            "WORKER_WAIT_SECONDS": "1", "OUTBOX_POLL_SECONDS": "0.1",
            "JOB_RETRY_BASE_SECONDS": "0.2", "WORKER_CONCURRENCY": "2", **overrides}
        env = {f"ATELIER_{k}": str(v) for k, v in values.items()}
        env.update(AWS_ACCESS_KEY_ID=DUMMY_KEY, AWS_SECRET_ACCESS_KEY=DUMMY_KEY,
                   AWS_DEFAULT_REGION=self.aws.region)
        return env

    @contextlib.asynccontextmanager
    async def api(self, **overrides: Any) -> AsyncIterator[Stack]:
        async with running_stack(self.tmp / "api", self.postgres_url,
                                 **self.settings(**overrides)) as stack:
            yield stack

    @contextlib.asynccontextmanager
    async def worker(self, name: str, **overrides: Any) -> AsyncIterator[AtelierProcess]:
        async with atelier("worker", env=self.worker_env(**overrides),
                           log=self.tmp / f"{name}.log") as process:
            yield process

    async def image(self, image_id: str) -> dict[str, Any]:
        async with self.engine.connect() as connection:
            row = (await connection.execute(
                select(images).where(images.c.id == image_id))).mappings().one()
        return dict(row)

    async def wait_for(
        self, image_id: str, status: str, timeout: float = 45.0,
        watch: AtelierProcess | None = None,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            row = await self.image(image_id)
            if row["status"] == status:
                return row
            if time.monotonic() > deadline:
                log = watch.output()[-4000:] if watch else ""
                raise AssertionError(f"image still {row['status']}, wanted {status}\n{log}")
            await asyncio.sleep(0.05)

    async def member_wanting_mail(self, user_id: str) -> str:
        address = f"{user_id}@example.com"
        async with self.engine.begin() as connection:
            await connection.execute(update(users).where(users.c.id == user_id).values(
                kind="member", email=address, email_confirmed=True, notify_by_email=True))
        return address

    def mails_to(self, address: str) -> list[dict[str, Any]]:
        sent = self.aws.moto_data().get("ses", {}).get("Message", [])
        return [m for m in sent if address in m["destinations"].get("ToAddresses", [])]

    async def objects(self) -> list[str]:
        async with self.aws.client("s3") as s3:
            listed = await s3.list_objects_v2(Bucket=BUCKET, Prefix="images/")
        return [o["Key"] for o in listed.get("Contents", [])]

    async def queue_depth(self, url: str) -> int:
        async with self.aws.client("sqs") as sqs:
            found = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        attributes = found["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"])


async def _listen(url: str, into: list[dict[str, Any]], subscribed: asyncio.Event) -> None:
    client = redis_asyncio.Redis.from_url(url)
    try:
        async with client.pubsub() as pubsub:
            await pubsub.psubscribe("atelier:rt:user:*")
            subscribed.set()
            async for message in pubsub.listen():
                if message["type"] == "pmessage":
                    into.append(json.loads(message["data"])["data"])
    finally:
        await client.aclose()


@pytest.fixture
async def world(
    tmp_path: Path, aws: Aws, pg_engine: AsyncEngine, postgres_url: str, redis_url: str,
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
) -> AsyncIterator[World]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
    max_receives = getattr(request, "param", 5)
    async with aws.client("sqs") as sqs:
        queue_url, dead_url = await create_queues(
            sqs, f"jobs-{secrets.token_hex(3)}", max_receives, 2)
    async with aws.client("s3") as s3:
        await s3.create_bucket(Bucket=BUCKET)
    async with aws.client("ses") as ses:
        await ses.verify_email_identity(EmailAddress=SENDER)
    world = World(tmp_path, aws, pg_engine, postgres_url, redis_url, queue_url, dead_url)
    subscribed = asyncio.Event()
    listener = asyncio.create_task(_listen(redis_url, world.ready_events, subscribed))
    await asyncio.wait_for(subscribed.wait(), 10)
    try:
        yield world
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.1)


async def test_sigkill_mid_generation_still_completes_exactly_once(world: World) -> None:
    async with world.api() as stack:
        guest = await new_guest(stack.client)
        address = await world.member_wanting_mail(guest["user"]["id"])
        image_id = (await request_image(stack.client, guest["tokens"])).json()["id"]

        async with world.worker("doomed", LOCAL_GENERATOR_DELAY_SECONDS="30") as doomed:
            await world.wait_for(image_id, "generating", watch=doomed)
            doomed.kill()
        async with world.worker("successor", LOCAL_GENERATOR_DELAY_SECONDS="0.5") as successor:
            row = await world.wait_for(image_id, "ready", watch=successor)
            await eventually(lambda: _async(len(world.mails_to(address)) >= 1))
            await asyncio.sleep(3)  # time for any duplicate to show itself
            assert await successor.terminate() == 0

    assert row["attempts"] == 2
    assert await world.objects() == [row["object_key"]]
    assert [e["id"] for e in world.ready_events if e["type"] == "image.ready"] == [image_id]
    assert len(world.mails_to(address)) == 1
    async with world.engine.connect() as connection:
        announced = await connection.scalar(select(func.count()).select_from(outbox).where(
            outbox.c.topic == "image.ready"))
    assert announced == 1
    assert await world.queue_depth(world.queue_url) == 0


async def test_a_request_accepted_while_the_queue_is_down_is_delivered_later(
    world: World,
) -> None:
    moto = urlparse(world.aws.endpoint_url)
    proxy = TcpProxy(moto.hostname or "127.0.0.1", moto.port or 80)
    await proxy.start()
    try:
        async with world.api(aws_endpoint_url=f"http://127.0.0.1:{proxy.port}") as stack:
            guest = await new_guest(stack.client)
            await proxy.cut()
            accepted = await request_image(stack.client, guest["tokens"], "fox in a storm")
            assert accepted.status_code == 202, accepted.text
            image_id = accepted.json()["id"]

            async def relay_tried_and_failed() -> bool:
                async with world.engine.connect() as connection:
                    pending = (await connection.execute(select(outbox).where(
                        outbox.c.topic == "image.requested"))).mappings().one()
                assert pending["published_at"] is None
                return bool(pending["attempts"] >= 1)

            await eventually(relay_tried_and_failed)
            assert await world.queue_depth(world.queue_url) == 0

            await proxy.restore()
            async with world.worker("worker") as worker:
                await world.wait_for(image_id, "ready", watch=worker)
                assert await worker.terminate() == 0
    finally:
        await proxy.cut()


async def test_the_worker_survives_its_database_connections_being_killed(world: World) -> None:
    async with world.api() as stack:
        tokens = (await new_guest(stack.client))["tokens"]
        async with world.worker("worker", LOCAL_GENERATOR_DELAY_SECONDS="1") as worker:
            first = (await request_image(stack.client, tokens, "first fox")).json()["id"]
            await world.wait_for(first, "generating", watch=worker)
            killed = await _terminate_backends(world.engine)
            assert killed >= 1
            await world.wait_for(first, "ready", watch=worker)
            await _terminate_backends(world.engine)
            second = (await request_image(stack.client, tokens, "second fox")).json()["id"]
            await world.wait_for(second, "ready", watch=worker)
            assert worker.alive
            assert await worker.terminate() == 0


@pytest.mark.parametrize("world", [2], indirect=True)
async def test_a_poison_job_goes_to_the_dead_letter_queue_and_fails(world: World) -> None:
    api = FakeImagesApi(default=server_error)
    async with serving(api) as openai_url, world.api() as stack:
        tokens = (await new_guest(stack.client))["tokens"]
        image_id = (await request_image(stack.client, tokens, "cursed fox")).json()["id"]
        async with world.worker("worker", IMAGE_GENERATOR="openai", OPENAI_API_KEY="sk-test",
                                OPENAI_BASE_URL=openai_url) as worker:
            row = await world.wait_for(image_id, "failed", timeout=60, watch=worker)
            assert await worker.terminate() == 0
    assert row["failure_reason"] == GAVE_UP
    assert len(api.requests) >= 2
    assert await world.queue_depth(world.queue_url) == 0
    assert await world.queue_depth(world.dead_url) == 1  # kept for operators
    assert await world.objects() == []


async def _terminate_backends(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        killed = await connection.scalar(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"))
        await connection.commit()
    return int(killed or 0)


async def _async(value: Any) -> Any:
    return value
