from application.images.policy import ImagePolicy
from application.images.views import ImageDetails, with_url
from application.ports.images import ObjectStore
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.images.errors import ImageNotFound


class GetImage:
    """One of the caller's images; anyone else's is simply not found."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, store: ObjectStore, policy: ImagePolicy
    ) -> None:
        self._uow_factory, self._store, self._policy = uow_factory, store, policy

    async def __call__(self, user_id: str, image_id: str) -> ImageDetails:
        async with self._uow_factory() as uow:
            job = await uow.images.get(image_id)
        if job is None or job.user_id != user_id or not job.visible_to_owner:
            raise ImageNotFound()
        return await with_url(job, self._store, self._policy.url_ttl_seconds)
