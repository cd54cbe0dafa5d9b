from application.ports.clock import Clock
from application.ports.images import ObjectStore
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.images.errors import ImageNotFound


class DeleteImage:
    """Deletes one of the caller's images and its stored picture. The row stays, marked
    deleted, so the day's quota still counts it."""

    def __init__(self, uow_factory: UnitOfWorkFactory, store: ObjectStore, clock: Clock) -> None:
        self._uow_factory, self._store, self._clock = uow_factory, store, clock

    async def __call__(self, user_id: str, image_id: str) -> None:
        async with self._uow_factory() as uow:
            job = await uow.images.get_for_update(image_id)
            if job is None or job.user_id != user_id or not job.visible_to_owner:
                raise ImageNotFound()
            stored = job.delete(self._clock())
            await uow.images.update(job)
            await uow.commit()
        # Not stored yet: the worker finishing this job sees `deleted` and removes its own.
        if stored is not None:
            await self._store.delete(stored)
