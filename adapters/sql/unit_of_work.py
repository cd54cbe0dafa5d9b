from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql.admin import SqlAlchemyAuditLogRepository, SqlAlchemyLocalAdminRepository
from adapters.sql.admin_counts import SqlAlchemyAdminCounts
from adapters.sql.console_sessions import SqlAlchemyConsoleSessionRepository
from adapters.sql.errors import integrity_errors_as_conflicts
from adapters.sql.exports import SqlAlchemyExportRepository
from adapters.sql.identities import SqlAlchemyIdentityRepository, SqlAlchemyIdTokenUseRepository
from adapters.sql.images import SqlAlchemyImageRepository, SqlAlchemyOutboxRepository
from adapters.sql.sessions import SqlAlchemySessionRepository, SqlAlchemyTransferCodeRepository
from adapters.sql.users import (
    SqlAlchemyDeviceRepository,
    SqlAlchemyLoginAttemptRepository,
    SqlAlchemyUserRepository,
)
from application.ports.storage import StorageProbe
from application.ports.unit_of_work import UnitOfWork

SessionFactory = async_sessionmaker[AsyncSession]


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class SqlAlchemyUnitOfWork:
    """One AsyncSession (one transaction) per `async with`; leaving without commit() rolls
    back."""

    users: SqlAlchemyUserRepository
    devices: SqlAlchemyDeviceRepository
    sessions: SqlAlchemySessionRepository
    transfer_codes: SqlAlchemyTransferCodeRepository
    login_attempts: SqlAlchemyLoginAttemptRepository
    images: SqlAlchemyImageRepository
    outbox: SqlAlchemyOutboxRepository
    audit: SqlAlchemyAuditLogRepository
    admins: SqlAlchemyLocalAdminRepository
    console_sessions: SqlAlchemyConsoleSessionRepository
    counts: SqlAlchemyAdminCounts
    identities: SqlAlchemyIdentityRepository
    id_token_uses: SqlAlchemyIdTokenUseRepository
    exports: SqlAlchemyExportRepository

    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a Unit of Work is used once")
        session = self._session = self._session_factory()
        self.users = SqlAlchemyUserRepository(session)
        self.devices = SqlAlchemyDeviceRepository(session)
        self.sessions = SqlAlchemySessionRepository(session)
        self.transfer_codes = SqlAlchemyTransferCodeRepository(session)
        self.login_attempts = SqlAlchemyLoginAttemptRepository(session)
        self.images = SqlAlchemyImageRepository(session)
        self.outbox = SqlAlchemyOutboxRepository(session)
        self.audit = SqlAlchemyAuditLogRepository(session)
        self.admins = SqlAlchemyLocalAdminRepository(session)
        self.console_sessions = SqlAlchemyConsoleSessionRepository(session)
        self.counts = SqlAlchemyAdminCounts(session)
        self.identities = SqlAlchemyIdentityRepository(session)
        self.id_token_uses = SqlAlchemyIdTokenUseRepository(session)
        self.exports = SqlAlchemyExportRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._active()
        try:
            await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        with integrity_errors_as_conflicts():
            await self._active().commit()

    async def rollback(self) -> None:
        await self._active().rollback()

    def _active(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the Unit of Work inside `async with uow:`")
        return self._session


class SqlAlchemyUnitOfWorkFactory:
    """A UnitOfWorkFactory: each call is a new Unit of Work on the same engine. Also the
    database's StorageProbe."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory

    def __call__(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.session_factory)

    async def probe(self) -> None:
        async with self.session_factory() as session:
            await session.execute(text("SELECT 1"))


def sql_unit_of_work_factory(engine: AsyncEngine) -> SqlAlchemyUnitOfWorkFactory:
    """The UnitOfWorkFactory a composition root hands to the use cases."""
    return SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))


# mypy holds the class to the port: a repository that drifts from its Protocol fails.
_satisfies_port: type[UnitOfWork] = SqlAlchemyUnitOfWork
_probes_storage: type[StorageProbe] = SqlAlchemyUnitOfWorkFactory
