"""Request and response bodies of the image routes."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from application.images.views import ImageDetails

Status = Literal["queued", "generating", "ready", "failed"]


class ImageRequestBody(msgspec.Struct):
    prompt: Annotated[str, msgspec.Meta(description="1 to 4,000 characters")]
    size: Annotated[str | None, msgspec.Meta(
        description="1024x1024 (default), 1536x1024, 1024x1536 or auto")] = None
    quality: Annotated[str | None, msgspec.Meta(
        description="low, medium, high or auto (default)")] = None


class ImageAccepted(msgspec.Struct):
    id: str
    status: Status


class ImageView(msgspec.Struct):
    id: str
    status: Status
    prompt: str
    size: str
    quality: str
    created_at: datetime
    completed_at: datetime | None
    url: Annotated[str | None, msgspec.Meta(
        description="A short-lived download link, once the image is ready")]
    failure_reason: str | None

    @classmethod
    def of(cls, details: ImageDetails, base_url: str) -> "ImageView":
        job, url = details.job, details.url
        if url is not None and url.startswith("/"):
            url = base_url.rstrip("/") + url  # the filesystem store's links are relative
        return cls(
            id=job.id, status=job.status.value,  # type: ignore[arg-type]
            prompt=job.prompt, size=job.size.value, quality=job.quality.value,
            created_at=job.created_at, completed_at=job.completed_at, url=url,
            failure_reason=job.failure_reason,
        )


class ImagePageView(msgspec.Struct):
    items: list[ImageView]
    next_cursor: str | None
