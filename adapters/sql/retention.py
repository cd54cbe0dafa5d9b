"""Retention deletes on SQLAlchemy: one short transaction per batch, so no long locks."""

from datetime import datetime

from sqlalchemy import ColumnElement, Table, and_, delete, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.errors import affected_rows
from adapters.sql.tables import (
    console_sessions,
    deletion_codes,
    id_token_uses,
    local_codes,
    login_attempts,
    outbox,
    refresh_families,
    refresh_tokens,
    transfer_codes,
)
from adapters.sql.unit_of_work import SessionFactory, make_session_factory
from application.ports.retention import RetentionStore


class SqlAlchemyRetentionStore:
    def __init__(self, database: AsyncEngine | SessionFactory) -> None:
        self._session_factory = (
            make_session_factory(database) if isinstance(database, AsyncEngine) else database)

    async def _delete(self, table: Table, dead: ColumnElement[bool], limit: int) -> int:
        columns = list(table.primary_key.columns)
        key = columns[0] if len(columns) == 1 else tuple_(*columns)
        batch = select(*columns).where(dead).limit(limit)
        # `dead` again on the outer statement: PostgreSQL re-checks it on a row another
        # transaction changed meanwhile (a new failed login), the subquery it would not.
        async with self._session_factory() as session, session.begin():
            return await affected_rows(session, delete(table).where(dead, key.in_(batch)))

    async def delete_delivered_outbox(self, before: datetime, limit: int) -> int:
        return await self._delete(outbox, outbox.c.published_at < before, limit)

    async def delete_old_login_attempts(self, before: datetime, limit: int) -> int:
        t = login_attempts
        return await self._delete(t, and_(
            or_(t.c.locked_until.is_(None), t.c.locked_until < before),
            or_(t.c.last_failed_at.is_(None), t.c.last_failed_at < before),
        ), limit)

    async def delete_spent_transfer_codes(self, before: datetime, limit: int) -> int:
        t = transfer_codes
        return await self._delete(
            t, or_(t.c.used_at < before, t.c.voided_at < before, t.c.expires_at < before),
            limit)

    async def delete_spent_local_codes(self, before: datetime, limit: int) -> int:
        t = local_codes
        return await self._delete(t, and_(
            or_(t.c.expires_at.is_(None), t.c.expires_at < before),
            or_(t.c.window_started_at.is_(None), t.c.window_started_at < before),
            or_(t.c.sent_at.is_(None), t.c.sent_at < before),
        ), limit)

    async def delete_expired_deletion_codes(self, before: datetime, limit: int) -> int:
        return await self._delete(
            deletion_codes, deletion_codes.c.expires_at < before, limit)

    async def delete_expired_id_token_uses(self, before: datetime, limit: int) -> int:
        return await self._delete(id_token_uses, id_token_uses.c.expires_at < before, limit)

    async def delete_issued_hashes_of_expired_families(
        self, before: datetime, limit: int
    ) -> int:
        expired = select(refresh_families.c.id).where(refresh_families.c.expires_at < before)
        return await self._delete(
            refresh_tokens, refresh_tokens.c.family_id.in_(expired), limit)

    async def delete_expired_families(self, before: datetime, limit: int) -> int:
        return await self._delete(
            refresh_families, refresh_families.c.expires_at < before, limit)

    async def delete_expired_console_sessions(self, before: datetime, limit: int) -> int:
        return await self._delete(
            console_sessions, console_sessions.c.expires_at < before, limit)


_satisfies_port: type[RetentionStore] = SqlAlchemyRetentionStore
