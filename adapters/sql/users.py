from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import affected_rows, integrity_errors_as_conflicts
from adapters.sql.mappers import (
    attempts_to_row,
    device_to_row,
    row_to_attempts,
    row_to_device,
    row_to_user,
    user_to_row,
)
from adapters.sql.tables import devices, login_attempts, users
from application.ports.admin import UserQuery
from domain.devices.model import Device
from domain.shared.errors import NotFound
from domain.users.lockout import EVERY_SOURCE, LoginAttempts
from domain.users.model import User, UserKind


class SqlAlchemyUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: str) -> User | None:
        return await self._one(users.c.id == user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(users.c.email == email)

    async def lock(self, user_id: str) -> None:
        # FOR UPDATE on PostgreSQL; SQLite's write transactions (BEGIN IMMEDIATE) already
        # take turns, and SQLAlchemy leaves the clause out there.
        await self._session.execute(
            select(users.c.id).where(users.c.id == user_id).with_for_update())

    async def get_by_external_id(self, external_id: str) -> User | None:
        return await self._one(users.c.external_id == external_id)

    async def add(self, user: User) -> None:
        # A savepoint keeps the transaction usable after EmailInUse.
        with integrity_errors_as_conflicts():
            async with self._session.begin_nested():
                await self._session.execute(insert(users).values(user_to_row(user)))

    async def update(self, user: User) -> None:
        row = user_to_row(user)
        del row["id"]
        with integrity_errors_as_conflicts():
            async with self._session.begin_nested():
                changed = await affected_rows(
                    self._session, update(users).where(users.c.id == user.id).values(row))
        if changed == 0:
            raise NotFound("user not found")

    async def delete(self, user_id: str) -> None:
        # Devices, sessions (with their tokens), transfer codes and images go by cascade.
        await self._session.execute(delete(users).where(users.c.id == user_id))

    async def idle_guests(self, last_seen_before: datetime, limit: int) -> list[User]:
        result = await self._session.execute(
            select(users)
            .where(users.c.kind == UserKind.GUEST.value, users.c.last_seen_at < last_seen_before)
            .order_by(users.c.last_seen_at, users.c.id)
            .limit(limit)
        )
        return [row_to_user(row) for row in result.mappings()]

    async def search(
        self, query: UserQuery, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[User]:
        statement = select(users).order_by(users.c.created_at.desc(), users.c.id.desc())
        if query.email:
            escaped = query.email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(users.c.email.like(f"{escaped}%", escape="\\"))
        if query.user_id:
            statement = statement.where(
                or_(users.c.id == query.user_id, users.c.external_id == query.user_id))
        if query.kind is not None:
            statement = statement.where(users.c.kind == query.kind.value)
        if query.status is not None:
            statement = statement.where(users.c.status == query.status.value)
        if after is not None:
            created, user_id = after
            statement = statement.where(or_(
                users.c.created_at < created,
                and_(users.c.created_at == created, users.c.id < user_id)))
        result = await self._session.execute(statement.limit(limit))
        return [row_to_user(row) for row in result.mappings()]

    async def _one(self, where: ColumnElement[bool]) -> User | None:
        result = await self._session.execute(select(users).where(where))
        row = result.mappings().first()
        return row_to_user(row) if row is not None else None


class SqlAlchemyDeviceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: str, device_id: str) -> Device | None:
        result = await self._session.execute(
            select(devices).where(devices.c.user_id == user_id, devices.c.device_id == device_id))
        row = result.mappings().first()
        return row_to_device(row) if row is not None else None

    async def add(self, device: Device) -> None:
        with integrity_errors_as_conflicts():
            await self._session.execute(insert(devices).values(device_to_row(device)))

    async def update(self, device: Device) -> None:
        row = device_to_row(device)
        changed = await affected_rows(
            self._session,
            update(devices)
            .where(devices.c.user_id == device.user_id, devices.c.device_id == device.device_id)
            .values(row),
        )
        if changed == 0:
            raise NotFound("device not found")

    async def for_user(self, user_id: str) -> list[Device]:
        result = await self._session.execute(
            select(devices)
            .where(devices.c.user_id == user_id)
            .order_by(devices.c.created_at, devices.c.device_id)
        )
        return [row_to_device(row) for row in result.mappings()]

    async def move_to(self, from_user_id: str, to_user_id: str) -> int:
        """Rebinds the devices; where the target already holds the device, its row wins."""
        held = select(devices.c.device_id).where(devices.c.user_id == to_user_id)
        await self._session.execute(
            delete(devices).where(devices.c.user_id == from_user_id, devices.c.device_id.in_(held)))
        return await affected_rows(
            self._session,
            update(devices).where(devices.c.user_id == from_user_id).values(user_id=to_user_id),
        )


class SqlAlchemyLoginAttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, email: str, source: str = EVERY_SOURCE) -> LoginAttempts | None:
        result = await self._session.execute(select(login_attempts).where(
            login_attempts.c.email == email, login_attempts.c.source == source))
        row = result.mappings().first()
        return row_to_attempts(row) if row is not None else None

    async def get_for_update(self, email: str, source: str) -> LoginAttempts:
        # A row to lock first (a lock on nothing holds nothing); FOR UPDATE on PostgreSQL,
        # SQLite's write transactions (BEGIN IMMEDIATE) already take turns.
        await self._session.execute(self._upsert().values(
            attempts_to_row(LoginAttempts(email, source=source))).on_conflict_do_nothing())
        result = await self._session.execute(
            select(login_attempts)
            .where(login_attempts.c.email == email, login_attempts.c.source == source)
            .with_for_update())
        return row_to_attempts(result.mappings().one())

    async def save(self, attempts: LoginAttempts) -> None:
        row = attempts_to_row(attempts)
        await self._session.execute(
            self._upsert().values(row).on_conflict_do_update(
                index_elements=[login_attempts.c.email, login_attempts.c.source],
                set_={"failures": row["failures"], "locked_until": row["locked_until"]},
            )
        )

    async def delete(self, email: str, source: str) -> None:
        await self._session.execute(delete(login_attempts).where(
            login_attempts.c.email == email, login_attempts.c.source == source))

    def _upsert(self) -> postgresql.Insert | sqlite.Insert:
        dialect = self._session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(login_attempts)
