from dataclasses import dataclass

from application.images.cursor import decode_cursor, encode_cursor
from application.images.policy import ImagePolicy
from application.images.views import ImageDetails, with_url
from application.ports.images import ObjectStore
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.errors import InvalidInput


@dataclass(frozen=True)
class ImagePage:
    items: list[ImageDetails]
    next_cursor: str | None


class ListImages:
    """The caller's images, newest first, a page at a time."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, store: ObjectStore, policy: ImagePolicy
    ) -> None:
        self._uow_factory, self._store, self._policy = uow_factory, store, policy

    async def __call__(
        self, user_id: str, cursor: str | None = None, limit: int | None = None
    ) -> ImagePage:
        size = self._policy.page_size if limit is None else limit
        if not 1 <= size <= self._policy.max_page_size:
            raise InvalidInput(f"limit is 1 to {self._policy.max_page_size}")
        before = decode_cursor(cursor) if cursor else None
        async with self._uow_factory() as uow:
            jobs = await uow.images.page_for_user(user_id, size + 1, before)
        shown = jobs[:size]
        items = [await with_url(job, self._store, self._policy.url_ttl_seconds) for job in shown]
        more = len(jobs) > size
        next_cursor = encode_cursor(shown[-1].created_at, shown[-1].id) if more else None
        return ImagePage(items, next_cursor)
