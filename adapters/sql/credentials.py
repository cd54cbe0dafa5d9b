import dataclasses
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.credentials import LocalCode, LocalCredential
from adapters.sql import tables
from adapters.sql.errors import affected_rows
from adapters.sql.mappers import credential_to_row, row_to_credential
from adapters.sql.tables import local_codes, local_credentials
from adapters.sql.unit_of_work import SessionFactory, make_session_factory
from domain.shared.errors import Conflict, NotFound
from domain.users.model import EmailInUse


class SqlCredentialStore:
    """The local identity provider's credentials; each call is its own transaction."""

    def __init__(self, database: AsyncEngine | SessionFactory) -> None:
        self._session_factory = (
            make_session_factory(database) if isinstance(database, AsyncEngine) else database)

    async def get(self, email: str) -> LocalCredential | None:
        async with self._session_factory() as session:
            result = await session.execute(
                select(local_credentials).where(local_credentials.c.email == email))
            row = result.mappings().first()
            return row_to_credential(row) if row is not None else None

    async def add(self, credential: LocalCredential) -> None:
        try:
            async with self._session_factory() as session, session.begin():
                await session.execute(
                    insert(local_credentials).values(credential_to_row(credential)))
        except IntegrityError as error:
            if await self.get(credential.email) is not None:
                raise EmailInUse() from error
            raise Conflict() from error

    async def update(self, credential: LocalCredential) -> None:
        row = credential_to_row(credential)
        async with self._session_factory() as session, session.begin():
            changed = await affected_rows(
                session,
                update(local_credentials)
                .where(local_credentials.c.email == credential.email)
                .values(row),
            )
        if changed == 0:
            raise NotFound("credential not found")

    async def take_code_attempt(
        self, email: str, now: datetime, max_attempts: int
    ) -> LocalCredential | None:
        # One statement: concurrent attempts queue on the row, and each re-checks the count
        # it finds there (PostgreSQL re-evaluates the WHERE after waiting for the lock).
        table = local_credentials
        async with self._session_factory() as session, session.begin():
            result = await session.execute(
                update(table)
                .where(
                    table.c.email == email,
                    table.c.confirmed.is_(False),
                    table.c.code_hash.is_not(None),
                    table.c.code_expires_at > now,
                    table.c.code_attempts < max_attempts,
                )
                .values(code_attempts=table.c.code_attempts + 1)
                .returning(*table.c)
            )
            row = result.mappings().first()
        return row_to_credential(row) if row is not None else None

    async def confirm_with(self, email: str, code_hash: str) -> bool:
        table = local_credentials
        async with self._session_factory() as session, session.begin():
            changed = await affected_rows(
                session,
                update(table)
                .where(table.c.email == email, table.c.confirmed.is_(False),
                       table.c.code_hash == code_hash)
                .values(confirmed=True, code_hash=None, code_expires_at=None, code_attempts=0),
            )
        return changed == 1

    async def get_code(self, subject: str, purpose: str) -> LocalCode | None:
        table = local_codes
        async with self._session_factory() as session:
            result = await session.execute(
                select(table).where(table.c.subject == subject, table.c.purpose == purpose))
            row = result.mappings().first()
        return LocalCode(**row) if row is not None else None

    async def save_code(self, code: LocalCode) -> None:
        values = dataclasses.asdict(code)
        async with self._session_factory() as session, session.begin():
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            statement = dialect.insert(local_codes).values(values)
            await session.execute(statement.on_conflict_do_update(
                index_elements=["subject", "purpose"],
                set_={k: v for k, v in values.items() if k not in ("subject", "purpose")}))

    async def take_lifecycle_attempt(
        self, subject: str, purpose: str, now: datetime, max_attempts: int
    ) -> LocalCode | None:
        # One conditional statement, like take_code_attempt: the count is re-checked on the
        # row under its lock, so a burst gets no more than `max_attempts` comparisons.
        table = local_codes
        async with self._session_factory() as session, session.begin():
            result = await session.execute(
                update(table)
                .where(
                    table.c.subject == subject,
                    table.c.purpose == purpose,
                    table.c.code_hash.is_not(None),
                    table.c.expires_at > now,
                    table.c.attempts < max_attempts,
                )
                .values(attempts=table.c.attempts + 1)
                .returning(*table.c)
            )
            row = result.mappings().first()
        return LocalCode(**row) if row is not None else None

    async def spend_code(self, subject: str, purpose: str, code_hash: str) -> bool:
        table = local_codes
        async with self._session_factory() as session, session.begin():
            changed = await affected_rows(
                session,
                update(table)
                .where(table.c.subject == subject, table.c.purpose == purpose,
                       table.c.code_hash == code_hash)
                .values(code_hash=None, new_email=None, expires_at=None),
            )
        return changed == 1

    async def change_email(self, email: str, new_email: str) -> None:
        try:
            async with self._session_factory() as session, session.begin():
                changed = await affected_rows(
                    session,
                    update(local_credentials)
                    .where(local_credentials.c.email == email)
                    .values(email=new_email),
                )
        except IntegrityError as error:
            raise EmailInUse() from error
        if changed == 0:
            raise NotFound("credential not found")

    async def delete_subject(self, subject: str) -> None:
        async with self._session_factory() as session, session.begin():
            await session.execute(
                tables.local_codes.delete().where(tables.local_codes.c.subject == subject))
            await session.execute(tables.local_credentials.delete().where(
                tables.local_credentials.c.subject == subject))
