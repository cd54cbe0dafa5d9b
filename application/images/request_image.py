from application.images.policy import IMAGE_REQUESTED, ImagePolicy
from application.ports.clock import Clock
from application.ports.images import OutboxMessage, Wakeup
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.images.errors import IdempotencyKeyReused
from domain.images.model import ImageJob
from domain.images.options import ImageRequest, check_idempotency_key
from domain.images.quota import day_start
from domain.shared.errors import Conflict
from domain.shared.ids import new_id
from domain.users.model import User


class RequestImage:
    """Queues an image: the job and its outbox message commit together, so a request
    accepted while the queue is down is still delivered. An Idempotency-Key replays.
    `traceparent` (the request's trace) travels in the outbox message to the worker."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, policy: ImagePolicy, clock: Clock, relay: Wakeup
    ) -> None:
        self._uow_factory, self._policy, self._clock, self._relay = (
            uow_factory, policy, clock, relay)

    async def __call__(
        self, user: User, prompt: str, size: str | None, quality: str | None,
        idempotency_key: str | None = None, traceparent: str | None = None,
    ) -> ImageJob:
        wanted = ImageRequest.parse(prompt, size, quality)
        key = check_idempotency_key(idempotency_key)
        try:
            job = await self._queue(user, wanted, key, traceparent)
        except Conflict:
            # Two requests raced with one key: the one that committed is the answer.
            replayed = await self._replay(user.id, wanted, key) if key else None
            if replayed is None:
                raise
            return replayed
        self._relay.wake()
        return job

    async def _queue(
        self, user: User, wanted: ImageRequest, key: str | None, traceparent: str | None
    ) -> ImageJob:
        now = self._clock()
        async with self._uow_factory() as uow:
            await uow.users.lock(user.id)  # concurrent requests count one after another
            if key is not None:
                existing = await uow.images.get_by_idempotency_key(user.id, key)
                if existing is not None:
                    return _same_or_refuse(existing, wanted)
            used = await uow.images.count_created_since(user.id, day_start(now))
            self._policy.quota.check(user.is_guest, used, now)
            job = ImageJob.request(new_id(), user.id, wanted, now, key)
            await uow.images.add(job)
            payload = {"image_id": job.id}
            if traceparent is not None:
                payload["traceparent"] = traceparent
            await uow.outbox.add(OutboxMessage(new_id(), IMAGE_REQUESTED, payload, now))
            await uow.commit()
        return job

    async def _replay(self, user_id: str, wanted: ImageRequest, key: str) -> ImageJob | None:
        async with self._uow_factory() as uow:
            existing = await uow.images.get_by_idempotency_key(user_id, key)
        return _same_or_refuse(existing, wanted) if existing is not None else None


def _same_or_refuse(existing: ImageJob, wanted: ImageRequest) -> ImageJob:
    if not existing.same_request(wanted):
        raise IdempotencyKeyReused()
    return existing
