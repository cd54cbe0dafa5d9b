"""Web console sign-ins (table console_sessions, migration 0009)."""

from datetime import datetime

from sqlalchemy import RowMapping, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import affected_rows
from adapters.sql.tables import console_sessions
from domain.admins.console_session import ConsoleSession
from domain.admins.model import AdminIdentity, AdminSource

_table = console_sessions


def _row_session(row: RowMapping) -> ConsoleSession:
    admin = AdminIdentity(row["admin_subject"], AdminSource(row["admin_source"]),
                          row["admin_email"])
    return ConsoleSession(row["id_sha256"], admin, row["created_at"], row["last_seen_at"],
                          row["expires_at"])


class SqlAlchemyConsoleSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, session: ConsoleSession) -> None:
        await self._session.execute(insert(_table).values(
            id_sha256=session.id_sha256, admin_subject=session.admin.subject,
            admin_source=session.admin.source.value, admin_email=session.admin.email,
            created_at=session.created_at, last_seen_at=session.last_seen_at,
            expires_at=session.expires_at))

    async def get(self, id_sha256: str) -> ConsoleSession | None:
        result = await self._session.execute(select(_table).where(_table.c.id_sha256 == id_sha256))
        row = result.mappings().first()
        return _row_session(row) if row is not None else None

    async def touch(self, id_sha256: str, last_seen_at: datetime) -> None:
        await self._session.execute(
            update(_table)
            .where(_table.c.id_sha256 == id_sha256, _table.c.last_seen_at < last_seen_at)
            .values(last_seen_at=last_seen_at))

    async def delete(self, id_sha256: str) -> bool:
        return await affected_rows(
            self._session, delete(_table).where(_table.c.id_sha256 == id_sha256)) > 0

    async def delete_for_admin(self, subject: str) -> int:
        return await affected_rows(
            self._session, delete(_table).where(_table.c.admin_subject == subject))

    async def delete_expired(self, expired_before: datetime, idle_before: datetime) -> int:
        return await affected_rows(self._session, delete(_table).where(or_(
            _table.c.expires_at <= expired_before, _table.c.last_seen_at <= idle_before)))
