"""Ports of the image pipeline: the job queue, the object store and the generator."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.images.options import ImageRequest


@dataclass(frozen=True)
class ReceivedJob:
    """One delivery of a queued job; `receipt` acknowledges or delays this delivery."""

    image_id: str
    receipt: str
    receive_count: int
    traceparent: str | None = None
    """The W3C trace context the job was sent under (it follows the request's trace)."""


class JobQueue(Protocol):
    """At-least-once delivery of image jobs (SQS in production, a durable local queue by
    default): a received job stays invisible for a while and comes back unless deleted;
    after too many receives it moves to the dead-letter queue."""

    async def send(self, image_id: str, traceparent: str | None = None) -> None:
        """Queues the job; `traceparent` travels with it to the worker."""
        ...

    async def receive(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        """Long-polls up to `wait_seconds`; may answer fewer (or no) jobs."""
        ...

    async def delete(self, receipt: str) -> None:
        """Acknowledges the delivery: the job is done."""
        ...

    async def change_visibility(self, receipt: str, seconds: float) -> None:
        """Keeps the job hidden `seconds` more from now (0: visible again at once)."""
        ...

    async def receive_dead(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        """Jobs that exhausted their receives (the dead-letter queue)."""
        ...

    async def delete_dead(self, receipt: str) -> None: ...

    async def change_dead_visibility(self, receipt: str, seconds: float) -> None: ...


class ObjectStore(Protocol):
    """Private objects by key (S3 in production, files under the data dir by default)."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None:
        """Removes the object; removing a missing one is fine."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def download_url(self, key: str, expires_in: int) -> str:
        """A URL anyone may GET for `expires_in` seconds (presigned or signed)."""
        ...


class RetryableGenerationError(Exception):
    """The generator may succeed later (rate limited, 5xx, timeout)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentGenerationError(Exception):
    """The generator refuses this request for good (e.g. content policy); the reason is
    shown to the user."""


class ImageGenerator(Protocol):
    """Turns a prompt into a PNG (OpenAI gpt-image-1 in production, Pillow by default)."""

    async def generate(self, request: ImageRequest) -> bytes:
        """PNG bytes, or RetryableGenerationError / PermanentGenerationError."""
        ...


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    topic: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int = 0


class OutboxRepository(Protocol):
    """Messages written in the same transaction as the change they announce."""

    async def add(self, message: OutboxMessage) -> None: ...

    async def claim(self, topics: frozenset[str], limit: int) -> list[OutboxMessage]:
        """The oldest unpublished messages of these topics, locked against other relays
        until the transaction ends (skipping rows another relay holds)."""
        ...

    async def mark_published(self, message_id: str, now: datetime) -> None: ...

    async def record_failure(self, message_id: str) -> None: ...


Deliver = Callable[[dict[str, Any]], Awaitable[None]]
Destinations = Mapping[str, Deliver]


class Wakeup(Protocol):
    """Tells a background loop (the outbox relay) there is work now, not at its next poll."""

    def wake(self) -> None: ...


class SignedObjectReader(Protocol):
    """Serves an object behind a signed, expiring URL (the filesystem store's links)."""

    async def read_signed(self, key: str, expires: int, signature: str) -> bytes:
        """The object's bytes; raises SignedUrlRefused (403) or NotFound (404)."""
        ...
