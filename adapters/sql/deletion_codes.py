"""The public deletion page's codes in the database (deletion_codes)."""

import dataclasses
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.errors import affected_rows
from adapters.sql.tables import deletion_codes
from adapters.sql.unit_of_work import SessionFactory, make_session_factory
from application.ports.deletion_codes import DeletionCode


class SqlDeletionCodeStore:
    def __init__(self, database: AsyncEngine | SessionFactory) -> None:
        self._session_factory = (
            make_session_factory(database) if isinstance(database, AsyncEngine) else database)

    async def save(self, code: DeletionCode) -> None:
        async with self._session_factory() as session, session.begin():
            await session.execute(
                delete(deletion_codes).where(deletion_codes.c.user_id == code.user_id))
            await session.execute(insert(deletion_codes).values(dataclasses.asdict(code)))

    async def take_attempt(
        self, user_id: str, now: datetime, max_attempts: int
    ) -> DeletionCode | None:
        table = deletion_codes
        async with self._session_factory() as session, session.begin():
            result = await session.execute(
                update(table)
                .where(table.c.user_id == user_id, table.c.attempts < max_attempts,
                       table.c.expires_at > now)
                .values(attempts=table.c.attempts + 1)
                .returning(*table.c))
            row = result.mappings().first()
        return DeletionCode(**row) if row is not None else None

    async def spend(self, user_id: str, code_hash: str) -> bool:
        table = deletion_codes
        async with self._session_factory() as session, session.begin():
            removed = await affected_rows(session, delete(table).where(
                table.c.user_id == user_id, table.c.code_hash == code_hash))
        return removed == 1
