from dataclasses import dataclass

from application.ports.images import ObjectStore
from domain.images.model import ImageJob, ImageStatus


@dataclass(frozen=True)
class ImageDetails:
    """A job as its owner sees it: with a short-lived download URL once ready."""

    job: ImageJob
    url: str | None = None


async def with_url(job: ImageJob, store: ObjectStore, ttl_seconds: int) -> ImageDetails:
    if job.status is ImageStatus.READY and job.object_key:
        return ImageDetails(job, await store.download_url(job.object_key, ttl_seconds))
    return ImageDetails(job)
