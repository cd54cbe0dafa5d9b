import logging
from typing import Any

from application.images.notify_ready import NotifyImageReady
from application.images.policy import IMAGE_READY, IMAGE_READY_EMAIL, IMAGE_REQUESTED
from application.ports.clock import Clock
from application.ports.images import Destinations, JobQueue
from application.ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

BATCH = 50
GIVE_UP_BATCH_AFTER = 3


class RelayOutbox:
    """Delivers committed outbox messages (to the job queue, the realtime bus, the mailer)
    and marks them published. Safe to run in several processes: each claims rows the
    others skip. At-least-once: a crash between delivery and commit delivers again."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, destinations: Destinations, clock: Clock,
        batch: int = BATCH,
    ) -> None:
        self._uow_factory, self._destinations, self._clock = uow_factory, destinations, clock
        self._topics = frozenset(destinations)
        self._batch = batch

    async def __call__(self) -> int:
        """Relays one batch; answers how many messages were delivered."""
        delivered = failures = 0
        async with self._uow_factory() as uow:
            for message in await uow.outbox.claim(self._topics, self._batch):
                try:
                    await self._destinations[message.topic](message.payload)
                except Exception as error:
                    log.warning("outbox %s (%s) not delivered: %r",
                                message.id, message.topic, error)
                    await uow.outbox.record_failure(message.id)
                    failures += 1
                    if failures >= GIVE_UP_BATCH_AFTER:
                        break  # the destination is down; the next round tries again
                    continue
                await uow.outbox.mark_published(message.id, self._clock())
                delivered += 1
            await uow.commit()
        if failures:
            raise RelayIncomplete(delivered, failures)
        return delivered


class RelayIncomplete(Exception):
    """Some messages could not be delivered this round (the caller backs off)."""

    def __init__(self, delivered: int, failures: int) -> None:
        super().__init__(f"{failures} outbox message(s) not delivered")
        self.delivered, self.failures = delivered, failures


def to_job_queue(queue: JobQueue) -> Destinations:
    """Where the mobile API's relay sends `image.requested`."""

    async def send(payload: dict[str, Any]) -> None:
        await queue.send(str(payload["image_id"]), payload.get("traceparent"))

    return {IMAGE_REQUESTED: send}


def to_notifications(notify: NotifyImageReady) -> Destinations:
    """Where the worker's relay sends what a finished job announces."""
    return {IMAGE_READY: notify.publish, IMAGE_READY_EMAIL: notify.email}


def combined(*parts: Destinations) -> Destinations:
    """One relay delivering several sets of topics (a topic in two sets is a wiring bug)."""
    merged: dict[str, Any] = {}
    for part in parts:
        if merged.keys() & part.keys():
            raise ValueError(f"topics with two destinations: {merged.keys() & part.keys()}")
        merged.update(part)
    return merged
