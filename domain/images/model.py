"""An image job: queued -> generating -> ready | failed, hidden or deleted by moderation."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.images.errors import InvalidImageTransition
from domain.images.options import ImageQuality, ImageRequest, ImageSize

MAX_REASON = 500


class ImageStatus(StrEnum):
    QUEUED = "queued"
    GENERATING = "generating"
    READY = "ready"
    FAILED = "failed"
    DELETED = "deleted"


FINISHED = frozenset({ImageStatus.READY, ImageStatus.FAILED, ImageStatus.DELETED})


def object_key_for(user_id: str, image_id: str) -> str:
    """Where the PNG lives: deterministic, so a redelivered job overwrites, never duplicates."""
    return f"images/{user_id}/{image_id}.png"


@dataclass(frozen=True)
class ImageReady:
    """Event: a job finished with its picture stored."""

    image_id: str
    user_id: str
    object_key: str


@dataclass
class ImageJob:
    """One requested image and where its generation stands."""

    id: str
    user_id: str
    prompt: str
    size: ImageSize
    quality: ImageQuality
    created_at: datetime
    updated_at: datetime
    status: ImageStatus = ImageStatus.QUEUED
    idempotency_key: str | None = None
    object_key: str | None = None
    failure_reason: str | None = None
    hidden: bool = False
    attempts: int = 0
    completed_at: datetime | None = None

    @classmethod
    def request(
        cls, image_id: str, user_id: str, wanted: ImageRequest, now: datetime,
        idempotency_key: str | None = None,
    ) -> "ImageJob":
        return cls(
            id=image_id, user_id=user_id, prompt=wanted.prompt, size=wanted.size,
            quality=wanted.quality, created_at=now, updated_at=now,
            idempotency_key=idempotency_key,
        )

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def visible_to_owner(self) -> bool:
        return self.status is not ImageStatus.DELETED and not self.hidden

    def same_request(self, wanted: ImageRequest) -> bool:
        """Whether a replayed Idempotency-Key carries the request that first used it."""
        return (self.prompt, self.size, self.quality) == (
            wanted.prompt, wanted.size, wanted.quality)

    def start(self, now: datetime) -> None:
        """queued -> generating; a redelivered job still generating starts over."""
        self._require(ImageStatus.QUEUED, ImageStatus.GENERATING, move="start")
        self.status = ImageStatus.GENERATING
        self.attempts += 1
        self.updated_at = now

    def complete(self, object_key: str, now: datetime) -> ImageReady:
        """generating -> ready, with the stored object's key."""
        self._require(ImageStatus.GENERATING, move="complete")
        self.status = ImageStatus.READY
        self.object_key = object_key
        self.completed_at = self.updated_at = now
        return ImageReady(self.id, self.user_id, object_key)

    def fail(self, reason: str, now: datetime) -> None:
        """queued | generating -> failed, with a reason the user may read."""
        self._require(ImageStatus.QUEUED, ImageStatus.GENERATING, move="fail")
        self.status = ImageStatus.FAILED
        self.failure_reason = (reason or "generation failed")[:MAX_REASON]
        self.completed_at = self.updated_at = now

    def requeue(self, now: datetime) -> None:
        """failed -> queued: an operator sends a job that gave up back to the work queue."""
        self._require(ImageStatus.FAILED, move="requeue")
        self.status = ImageStatus.QUEUED
        self.failure_reason = None
        self.completed_at = None
        self.updated_at = now

    def hide(self, now: datetime) -> None:
        """Moderation: the image stays stored but nobody is shown it."""
        self._require(*(s for s in ImageStatus if s is not ImageStatus.DELETED), move="hide")
        self.hidden = True
        self.updated_at = now

    def unhide(self, now: datetime) -> None:
        self._require(*(s for s in ImageStatus if s is not ImageStatus.DELETED), move="unhide")
        self.hidden = False
        self.updated_at = now

    def delete(self, now: datetime) -> str | None:
        """Any state -> deleted (the row stays, so the day's quota still counts it);
        returns the object key to remove, if any."""
        key = self.object_key
        self.status = ImageStatus.DELETED
        self.object_key = None
        self.updated_at = now
        return key

    def _require(self, *allowed: ImageStatus, move: str) -> None:
        if self.status not in allowed:
            raise InvalidImageTransition(f"cannot {move} an image that is {self.status.value}")
