from dataclasses import dataclass
from datetime import datetime

from application.admin.acting import Acting
from application.ports.clock import Clock
from application.ports.images import ObjectStore
from application.ports.messaging import RealtimeBus
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.images.errors import ImageNotFound
from domain.images.model import ImageJob, ImageStatus


@dataclass(frozen=True)
class ImagePage:
    images: list[ImageJob]
    next: tuple[datetime, str] | None


class SearchImages:
    """Every image (hidden and deleted ones too) by status and/or owner, newest first."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(
        self, status: ImageStatus | None, user_id: str | None, limit: int,
        before: tuple[datetime, str] | None,
    ) -> ImagePage:
        async with self._uow_factory() as uow:
            found = await uow.images.search(status, user_id, limit + 1, before)
        page = found[:limit]
        more = len(found) > limit and page
        return ImagePage(page, (page[-1].created_at, page[-1].id) if more else None)


class HideImage:
    """Moderation: the picture stays stored, its owner and everyone else stop seeing it."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory, self._clock = uow_factory, clock

    async def __call__(self, acting: Acting, image_id: str) -> ImageJob:
        now = self._clock()
        async with self._uow_factory() as uow:
            job = await uow.images.get_for_update(image_id)
            if job is None or job.status is ImageStatus.DELETED:
                raise ImageNotFound()
            job.hide(now)
            await uow.images.update(job)
            await uow.audit.append(acting.entry(
                "image.hidden", "image", job.id, now, user_id=job.user_id))
            await uow.commit()
        return job


class DeleteImageAsAdmin:
    """Moderation: the image is deleted with its stored picture; the owner is told."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, store: ObjectStore, bus: RealtimeBus, clock: Clock
    ) -> None:
        self._uow_factory, self._store, self._bus, self._clock = uow_factory, store, bus, clock

    async def __call__(self, acting: Acting, image_id: str) -> ImageJob:
        now = self._clock()
        async with self._uow_factory() as uow:
            job = await uow.images.get_for_update(image_id)
            if job is None or job.status is ImageStatus.DELETED:
                raise ImageNotFound()
            stored = job.delete(now)
            await uow.images.update(job)
            await uow.audit.append(acting.entry(
                "image.deleted", "image", job.id, now, user_id=job.user_id, object_key=stored))
            await uow.commit()
        if stored is not None:
            await self._store.delete(stored)
        await self._bus.publish(f"user:{job.user_id}", {"type": "image.deleted", "id": job.id})
        return job
