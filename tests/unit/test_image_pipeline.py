"""The image use cases on the in-memory adapters: request, outbox relay, worker, DLQ."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.job_queue import InMemoryJobQueue
from adapters.memory.mailer import InMemoryMailer
from adapters.memory.object_store import InMemoryObjectStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from application.images.delete_image import DeleteImage
from application.images.fail_dead_job import FailDeadJob
from application.images.get_image import GetImage
from application.images.list_images import ListImages
from application.images.notify_ready import NotifyImageReady
from application.images.policy import IMAGE_READY, IMAGE_READY_EMAIL, ImagePolicy
from application.images.process_image_job import Outcome, ProcessImageJob
from application.images.relay_outbox import (
    RelayIncomplete,
    RelayOutbox,
    to_job_queue,
    to_notifications,
)
from application.images.request_image import RequestImage
from application.ports.images import (
    PermanentGenerationError,
    RetryableGenerationError,
)
from application.ports.messaging import BusMessage
from domain.images.errors import DailyQuotaExceeded, IdempotencyKeyReused, ImageNotFound
from domain.images.model import ImageStatus
from domain.images.options import ImageRequest
from domain.images.quota import DailyQuota
from domain.shared.errors import InvalidInput
from domain.users.model import User

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Wakeups:
    def __init__(self) -> None:
        self.count = 0

    def wake(self) -> None:
        self.count += 1


class ScriptedGenerator:
    """Answers from a script: bytes, or an exception to raise."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls = 0

    async def generate(self, request: ImageRequest) -> bytes:
        self.calls += 1
        step = self.script.pop(0) if self.script else b"\x89PNG fake"
        if isinstance(step, Exception):
            raise step
        return bytes(step)


class RecordingBus:
    def __init__(self) -> None:
        self.published: list[BusMessage] = []

    async def publish(
        self, channel: str, data: dict[str, Any], traceparent: str | None = None
    ) -> None:
        self.published.append(BusMessage(channel, data, traceparent))

    def listen(self) -> Any:
        raise NotImplementedError

    @property
    def healthy(self) -> bool:
        return True


class Pipeline:
    def __init__(self, generator: ScriptedGenerator | None = None, **policy: Any) -> None:
        self.db = InMemoryDatabase()
        self.uow = InMemoryUnitOfWorkFactory(self.db)
        self.clock = Clock()
        self.policy = ImagePolicy(**{"quota": DailyQuota(guest=3, member=5),
                                     "retry_base_seconds": 0, **policy})
        self.queue = InMemoryJobQueue(visibility_timeout=30, max_receives=self.policy.max_receives)
        self.store = InMemoryObjectStore()
        self.generator = generator or ScriptedGenerator()
        self.bus, self.mailer, self.wakeups = RecordingBus(), InMemoryMailer(), Wakeups()
        self.request = RequestImage(self.uow, self.policy, self.clock, self.wakeups)
        self.get = GetImage(self.uow, self.store, self.policy)
        self.list = ListImages(self.uow, self.store, self.policy)
        self.delete = DeleteImage(self.uow, self.store, self.clock)
        self.process = ProcessImageJob(self.uow, self.queue, self.generator, self.store,
                                       self.policy, self.clock, self.wakeups)
        self.fail_dead = FailDeadJob(self.uow, self.clock)
        self.to_queue = RelayOutbox(self.uow, to_job_queue(self.queue), self.clock)
        notify = NotifyImageReady(self.bus, self.mailer, self.store, self.policy)
        self.notifications = RelayOutbox(self.uow, to_notifications(notify), self.clock)

    async def user(self, guest: bool = True, notify_by_email: bool = False) -> User:
        user = User.new_guest(f"u{len(self.db.tables.users)}", T0)
        if not guest:
            user.upgrade(f"{user.id}@example.com", f"sub-{user.id}")
            user.confirm_email()
            user.notify_by_email = notify_by_email
        async with self.uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    async def run_one(self) -> Outcome:
        await self.to_queue()
        received = await self.queue.receive(1, 0)
        assert len(received) == 1
        return await self.process(received[0])


async def test_request_writes_the_job_and_its_outbox_message_together() -> None:
    p = Pipeline()
    user = await p.user()
    job = await p.request(user, "a red fox", None, None)
    assert job.status is ImageStatus.QUEUED and p.wakeups.count == 1
    assert p.queue.depth() == (0, 0)  # not sent yet: the relay does that
    assert await p.to_queue() == 1
    assert p.queue.depth() == (1, 0)
    assert await p.to_queue() == 0  # published once


async def test_relay_keeps_messages_while_the_queue_is_down() -> None:
    p = Pipeline()
    user = await p.user()

    async def down(payload: dict[str, Any]) -> None:
        raise ConnectionError("queue unreachable")

    broken = RelayOutbox(p.uow, {"image.requested": down}, p.clock)
    job = await p.request(user, "a red fox", None, None)
    with pytest.raises(RelayIncomplete):
        await broken()
    assert await p.to_queue() == 1
    received = await p.queue.receive(1, 0)
    assert received[0].image_id == job.id


async def test_idempotency_key_replays_and_refuses_a_different_body() -> None:
    p = Pipeline()
    user = await p.user()
    first = await p.request(user, "a red fox", "1024x1024", None, "key-1")
    again = await p.request(user, "a red fox", "1024x1024", None, "key-1")
    assert again.id == first.id
    with pytest.raises(IdempotencyKeyReused):
        await p.request(user, "a blue fox", None, None, "key-1")
    other = await p.user()
    assert (await p.request(other, "a red fox", None, None, "key-1")).id != first.id
    assert await p.to_queue() == 2


async def test_daily_quota_is_lower_for_guests_and_replays_are_free() -> None:
    p = Pipeline()
    guest, member = await p.user(), await p.user(guest=False)
    for n in range(3):
        await p.request(guest, f"fox {n}", None, None, f"k{n}")
    await p.request(guest, "fox 0", None, None, "k0")  # a replay costs nothing
    with pytest.raises(DailyQuotaExceeded) as refused:
        await p.request(guest, "one more", None, None)
    assert refused.value.retry_after == 15 * 3600
    for n in range(5):
        await p.request(member, f"fox {n}", None, None)
    with pytest.raises(DailyQuotaExceeded):
        await p.request(member, "one more", None, None)
    p.clock.now = T0 + timedelta(days=1)
    await p.request(guest, "a new day", None, None)


async def test_deleting_does_not_give_quota_back() -> None:
    p = Pipeline()
    guest = await p.user()
    jobs = [await p.request(guest, f"fox {n}", None, None) for n in range(3)]
    await p.delete(guest.id, jobs[0].id)
    with pytest.raises(DailyQuotaExceeded):
        await p.request(guest, "one more", None, None)


async def test_a_job_runs_to_ready_and_announces_itself_once() -> None:
    p = Pipeline()
    user = await p.user(guest=False, notify_by_email=True)
    job = await p.request(user, "a red fox", None, None)
    assert await p.run_one() is Outcome.READY
    details = await p.get(user.id, job.id)
    assert details.job.status is ImageStatus.READY and details.url
    assert await p.store.exists(f"images/{user.id}/{job.id}.png")
    assert p.queue.depth() == (0, 0)
    assert await p.notifications() == 2
    assert [m.data["type"] for m in p.bus.published] == ["image.ready"]
    assert p.bus.published[0].channel == f"user:{user.id}"
    assert p.bus.published[0].data["id"] == job.id and p.bus.published[0].data["url"]
    assert [m.to for m in p.mailer.sent] == [user.email]
    assert await p.notifications() == 0


async def test_no_email_unless_asked_for_with_a_confirmed_address() -> None:
    p = Pipeline()
    user = await p.user(guest=False, notify_by_email=False)
    await p.request(user, "a red fox", None, None)
    await p.run_one()
    async with p.uow() as uow:
        topics = {m.topic for m in await uow.outbox.claim(
            frozenset({IMAGE_READY, IMAGE_READY_EMAIL}), 10)}
    assert topics == {IMAGE_READY}


async def test_a_redelivered_finished_job_is_acknowledged_and_changes_nothing() -> None:
    p = Pipeline()
    user = await p.user()
    job = await p.request(user, "a red fox", None, None)
    await p.to_queue()
    first = (await p.queue.receive(1, 0))[0]
    await p.queue.send(job.id)  # a duplicate delivery, as at-least-once allows
    assert await p.process(first) is Outcome.READY
    duplicate = (await p.queue.receive(1, 0))[0]
    assert await p.process(duplicate) is Outcome.SKIPPED
    assert p.generator.calls == 1 and p.queue.depth() == (0, 0)
    assert await p.notifications() == 1


async def test_a_crash_mid_generation_is_redone_by_the_next_delivery() -> None:
    p = Pipeline()
    user = await p.user()
    job = await p.request(user, "a red fox", None, None)
    await p.to_queue()
    await p.queue.receive(1, 0)  # this worker dies before finishing
    async with p.uow() as uow:
        stored = await uow.images.get(job.id)
        assert stored is not None
        stored.start(p.clock())
        await uow.images.update(stored)
        await uow.commit()
    p.queue._main[next(iter(p.queue._main))].visible_at = 0  # the visibility timeout passes
    again = (await p.queue.receive(1, 0))[0]
    assert again.receive_count == 2
    assert await p.process(again) is Outcome.READY
    assert (await p.get(user.id, job.id)).job.attempts == 2
    assert await p.notifications() == 1


async def test_a_content_policy_refusal_fails_the_job_for_good() -> None:
    p = Pipeline(ScriptedGenerator(PermanentGenerationError("refused by the content policy")))
    user = await p.user()
    job = await p.request(user, "something forbidden", None, None)
    assert await p.run_one() is Outcome.FAILED
    details = await p.get(user.id, job.id)
    assert details.job.status is ImageStatus.FAILED and details.url is None
    assert details.job.failure_reason == "refused by the content policy"
    assert p.queue.depth() == (0, 0)


async def test_retryable_errors_back_off_then_dead_letter_then_failed() -> None:
    busy = [RetryableGenerationError("HTTP 429", retry_after=0) for _ in range(10)]
    p = Pipeline(ScriptedGenerator(*busy), max_receives=3)
    user = await p.user()
    job = await p.request(user, "a red fox", None, None)
    await p.to_queue()
    for attempt in (1, 2, 3):
        received = await p.queue.receive(1, 0)
        assert received[0].receive_count == attempt
        assert await p.process(received[0]) is Outcome.RETRY
    assert await p.queue.receive(1, 0) == []
    assert p.queue.depth() == (0, 1)
    dead = await p.queue.receive_dead(10, 0)
    assert [d.image_id for d in dead] == [job.id]
    assert await p.fail_dead(job.id) is True
    assert await p.fail_dead(job.id) is False
    assert (await p.get(user.id, job.id)).job.status is ImageStatus.FAILED


async def test_retry_delay_honours_retry_after_and_grows() -> None:
    policy = ImagePolicy(retry_base_seconds=2, retry_cap_seconds=60)
    assert [policy.retry_delay(n, None) for n in (1, 2, 3, 10)] == [2, 4, 8, 60]
    assert policy.retry_delay(1, 30) == 30


async def test_an_image_deleted_while_generating_leaves_nothing_behind() -> None:
    p = Pipeline()
    user = await p.user()
    job = await p.request(user, "a red fox", None, None)

    class DeletingGenerator(ScriptedGenerator):
        async def generate(self, request: ImageRequest) -> bytes:
            await p.delete(user.id, job.id)
            return b"png"

    p.process = ProcessImageJob(p.uow, p.queue, DeletingGenerator(), p.store, p.policy,
                                p.clock, p.wakeups)
    assert await p.run_one() is Outcome.SKIPPED
    assert p.store.objects == {} and p.queue.depth() == (0, 0)
    assert await p.notifications() == 0


async def test_another_users_image_is_not_found() -> None:
    p = Pipeline()
    owner, stranger = await p.user(), await p.user()
    job = await p.request(owner, "a red fox", None, None)
    with pytest.raises(ImageNotFound):
        await p.get(stranger.id, job.id)
    with pytest.raises(ImageNotFound):
        await p.delete(stranger.id, job.id)
    with pytest.raises(ImageNotFound):
        await p.get(owner.id, "nope")


async def test_delete_removes_the_object_and_hides_the_image() -> None:
    p = Pipeline()
    user = await p.user()
    job = await p.request(user, "a red fox", None, None)
    await p.run_one()
    await p.delete(user.id, job.id)
    assert p.store.objects == {}
    with pytest.raises(ImageNotFound):
        await p.get(user.id, job.id)
    with pytest.raises(ImageNotFound):
        await p.delete(user.id, job.id)
    assert (await p.list(user.id)).items == []


async def test_list_pages_newest_first_with_a_cursor() -> None:
    p = Pipeline(quota=DailyQuota(guest=100))
    user = await p.user()
    ids = []
    for n in range(7):
        p.clock.now = T0 + timedelta(seconds=n // 2)  # ties on created_at too
        ids.append((await p.request(user, f"fox {n}", None, None)).id)
    seen, cursor = [], None
    while True:
        page = await p.list(user.id, cursor, 3)
        seen += [item.job.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    async with p.uow() as uow:
        jobs = [await uow.images.get(i) for i in ids]
    expected = [j.id for j in sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)]
    assert seen == expected
    with pytest.raises(InvalidInput):
        await p.list(user.id, "!!not a cursor", 3)
    with pytest.raises(InvalidInput):
        await p.list(user.id, None, 0)
