"""The console overview's counts, one GROUP BY each."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.tables import images, users
from domain.images.model import ImageStatus
from domain.users.model import UserKind


class SqlAlchemyAdminCounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def users_by_kind(self) -> dict[UserKind, int]:
        result = await self._session.execute(
            select(users.c.kind, func.count()).group_by(users.c.kind))
        return {UserKind(kind): int(count) for kind, count in result.all()}

    async def images_by_status(self, since: datetime) -> dict[ImageStatus, int]:
        result = await self._session.execute(
            select(images.c.status, func.count()).where(images.c.created_at >= since)
            .group_by(images.c.status))
        return {ImageStatus(status): int(count) for status, count in result.all()}
