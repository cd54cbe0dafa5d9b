from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import affected_rows, integrity_errors_as_conflicts
from adapters.sql.mappers import image_to_row, outbox_to_row, row_to_image, row_to_outbox
from adapters.sql.tables import images, outbox
from application.ports.images import OutboxMessage
from domain.images.model import ImageJob, ImageStatus
from domain.shared.errors import NotFound


class SqlAlchemyImageRepository:
    """Image jobs in the `images` table."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def move_owner(self, from_user_id: str, to_user_id: str) -> int:
        taken = select(images.c.idempotency_key).where(
            images.c.user_id == to_user_id, images.c.idempotency_key.is_not(None))
        # The key only deduplicates requests; where both used one, the target's use wins.
        await self._session.execute(
            update(images)
            .where(images.c.user_id == from_user_id, images.c.idempotency_key.in_(taken))
            .values(idempotency_key=None)
        )
        return await affected_rows(
            self._session,
            update(images).where(images.c.user_id == from_user_id).values(user_id=to_user_id),
        )

    async def count_for_user(self, user_id: str) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(images).where(images.c.user_id == user_id))
        return int(count or 0)

    async def get(self, image_id: str) -> ImageJob | None:
        row = (await self._session.execute(
            select(images).where(images.c.id == image_id))).mappings().first()
        return row_to_image(row) if row is not None else None

    async def get_for_update(self, image_id: str) -> ImageJob | None:
        # FOR UPDATE on PostgreSQL; SQLite ignores it (BEGIN IMMEDIATE serialises writers).
        row = (await self._session.execute(
            select(images).where(images.c.id == image_id).with_for_update()
        )).mappings().first()
        return row_to_image(row) if row is not None else None

    async def get_by_idempotency_key(self, user_id: str, key: str) -> ImageJob | None:
        row = (await self._session.execute(select(images).where(
            images.c.user_id == user_id, images.c.idempotency_key == key))).mappings().first()
        return row_to_image(row) if row is not None else None

    async def add(self, job: ImageJob) -> None:
        with integrity_errors_as_conflicts():
            async with self._session.begin_nested():
                await self._session.execute(insert(images).values(image_to_row(job)))

    async def update(self, job: ImageJob) -> None:
        row = image_to_row(job)
        del row["id"]
        changed = await affected_rows(
            self._session, update(images).where(images.c.id == job.id).values(row))
        if changed == 0:
            raise NotFound("image not found")

    async def count_created_since(self, user_id: str, since: datetime) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(images)
            .where(images.c.user_id == user_id, images.c.created_at >= since))
        return int(count or 0)

    async def page_for_user(
        self, user_id: str, limit: int, before: tuple[datetime, str] | None
    ) -> list[ImageJob]:
        query = select(images).where(
            images.c.user_id == user_id,
            images.c.status != ImageStatus.DELETED.value,
            images.c.hidden.is_(False),
        )
        if before is not None:
            query = query.where(_older_than(before))
        query = query.order_by(images.c.created_at.desc(), images.c.id.desc()).limit(limit)
        rows = (await self._session.execute(query)).mappings().all()
        return [row_to_image(row) for row in rows]

    async def search(
        self, status: ImageStatus | None, user_id: str | None, limit: int,
        before: tuple[datetime, str] | None,
    ) -> list[ImageJob]:
        query = select(images)
        if status is not None:
            query = query.where(images.c.status == status.value)
        if user_id is not None:
            query = query.where(images.c.user_id == user_id)
        if before is not None:
            query = query.where(_older_than(before))
        query = query.order_by(images.c.created_at.desc(), images.c.id.desc()).limit(limit)
        rows = (await self._session.execute(query)).mappings().all()
        return [row_to_image(row) for row in rows]

    async def list_by_status(self, status: ImageStatus, limit: int) -> list[ImageJob]:
        rows = (await self._session.execute(
            select(images).where(images.c.status == status.value)
            .order_by(images.c.updated_at, images.c.id).limit(limit))).mappings().all()
        return [row_to_image(row) for row in rows]


class SqlAlchemyOutboxRepository:
    """The `outbox` table; relays claim rows with FOR UPDATE SKIP LOCKED on PostgreSQL."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, message: OutboxMessage) -> None:
        await self._session.execute(insert(outbox).values(outbox_to_row(message)))

    async def claim(self, topics: frozenset[str], limit: int) -> list[OutboxMessage]:
        query = (
            select(outbox)
            .where(outbox.c.published_at.is_(None), outbox.c.topic.in_(sorted(topics)))
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await self._session.execute(query)).mappings().all()
        return [row_to_outbox(row) for row in rows]

    async def mark_published(self, message_id: str, now: datetime) -> None:
        await self._session.execute(
            update(outbox).where(outbox.c.id == message_id).values(published_at=now))

    async def record_failure(self, message_id: str) -> None:
        await self._session.execute(
            update(outbox).where(outbox.c.id == message_id)
            .values(attempts=outbox.c.attempts + 1))


def _older_than(before: tuple[datetime, str]) -> ColumnElement[bool]:
    """Strictly older than the cursor (created_at, id), in newest-first order."""
    created_at, image_id = before
    return or_(images.c.created_at < created_at,
               and_(images.c.created_at == created_at, images.c.id < image_id))
