from datetime import datetime

from sqlalchemy import RowMapping, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.tables import id_token_uses, identities
from application.ports.identities import IdentityRepository, IdTokenUseRepository
from domain.shared.errors import Conflict
from domain.users.identities import LinkedIdentity, Provider


def _row_identity(row: RowMapping) -> LinkedIdentity:
    return LinkedIdentity(
        user_id=row["user_id"], provider=Provider(row["provider"]), subject=row["subject"],
        email=row["email"], created_at=row["created_at"])


class SqlAlchemyIdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, provider: Provider, subject: str) -> LinkedIdentity | None:
        result = await self._session.execute(select(identities).where(
            identities.c.provider == provider.value, identities.c.subject == subject))
        row = result.mappings().first()
        return _row_identity(row) if row is not None else None

    async def for_user(self, user_id: str) -> list[LinkedIdentity]:
        result = await self._session.execute(select(identities).where(
            identities.c.user_id == user_id).order_by(identities.c.provider))
        return [_row_identity(row) for row in result.mappings()]

    async def add(self, identity: LinkedIdentity) -> None:
        # A savepoint keeps the transaction usable; the caller decides what a clash means.
        try:
            async with self._session.begin_nested():
                await self._session.execute(insert(identities).values(
                    provider=identity.provider.value, subject=identity.subject,
                    user_id=identity.user_id, email=identity.email,
                    created_at=identity.created_at))
        except IntegrityError as error:
            raise Conflict("this identity is linked already") from error

    async def delete(self, user_id: str, provider: Provider) -> None:
        await self._session.execute(delete(identities).where(
            identities.c.user_id == user_id, identities.c.provider == provider.value))


class SqlAlchemyIdTokenUseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def bind(
        self, provider: Provider, digest: str, device_id: str, expires_at: datetime
    ) -> str:
        # Insert first: on PostgreSQL a concurrent insert of the same key waits for the
        # first transaction and then clashes; the loser reads the winner's device.
        try:
            async with self._session.begin_nested():
                await self._session.execute(insert(id_token_uses).values(
                    provider=provider.value, token_sha256=digest, device_id=device_id,
                    expires_at=expires_at))
        except IntegrityError:
            bound = await self._session.scalar(select(id_token_uses.c.device_id).where(
                id_token_uses.c.provider == provider.value,
                id_token_uses.c.token_sha256 == digest))
            if bound is None:  # never: the row that clashed is committed
                raise
            return str(bound)
        return device_id


_satisfies_port: type[IdentityRepository] = SqlAlchemyIdentityRepository
_satisfies_uses_port: type[IdTokenUseRepository] = SqlAlchemyIdTokenUseRepository
