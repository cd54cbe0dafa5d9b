import asyncio
from types import TracebackType
from typing import Self

from adapters.memory.admin import (
    InMemoryAuditLogRepository,
    InMemoryConsoleSessionRepository,
    InMemoryLocalAdminRepository,
)
from adapters.memory.admin_counts import InMemoryAdminCounts
from adapters.memory.database import InMemoryDatabase
from adapters.memory.exports import InMemoryExportRepository
from adapters.memory.identities import InMemoryIdentityRepository, InMemoryIdTokenUseRepository
from adapters.memory.images import InMemoryImageRepository, InMemoryOutboxRepository
from adapters.memory.sessions import InMemorySessionRepository, InMemoryTransferCodeRepository
from adapters.memory.users import (
    InMemoryDeviceRepository,
    InMemoryLoginAttemptRepository,
    InMemoryUserRepository,
)
from adapters.memory.workspace import Workspace
from application.ports.storage import StorageProbe
from application.ports.unit_of_work import UnitOfWork


class InMemoryUnitOfWork:
    """A serial transaction over an InMemoryDatabase: works on a deep copy, which commit()
    publishes; leaving without commit() discards it."""

    users: InMemoryUserRepository
    devices: InMemoryDeviceRepository
    sessions: InMemorySessionRepository
    transfer_codes: InMemoryTransferCodeRepository
    login_attempts: InMemoryLoginAttemptRepository
    images: InMemoryImageRepository
    outbox: InMemoryOutboxRepository
    audit: InMemoryAuditLogRepository
    admins: InMemoryLocalAdminRepository
    console_sessions: InMemoryConsoleSessionRepository
    counts: InMemoryAdminCounts
    identities: InMemoryIdentityRepository
    id_token_uses: InMemoryIdTokenUseRepository
    exports: InMemoryExportRepository

    def __init__(self, database: InMemoryDatabase) -> None:
        self._db = database
        self._ws = Workspace()
        self._entered = False
        self.users = InMemoryUserRepository(self._ws)
        self.devices = InMemoryDeviceRepository(self._ws)
        self.sessions = InMemorySessionRepository(self._ws)
        self.transfer_codes = InMemoryTransferCodeRepository(self._ws)
        self.login_attempts = InMemoryLoginAttemptRepository(self._ws)
        self.images = InMemoryImageRepository(self._ws)
        self.outbox = InMemoryOutboxRepository(self._ws)
        self.audit = InMemoryAuditLogRepository(self._ws)
        self.admins = InMemoryLocalAdminRepository(self._ws)
        self.console_sessions = InMemoryConsoleSessionRepository(self._ws)
        self.counts = InMemoryAdminCounts(self._ws)
        self.identities = InMemoryIdentityRepository(self._ws)
        self.id_token_uses = InMemoryIdTokenUseRepository(self._ws)
        self.exports = InMemoryExportRepository(self._ws)

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("a Unit of Work is used once")
        self._entered = True
        task = asyncio.current_task()
        if task is not None and self._db.holder is task:
            raise RuntimeError("a Unit of Work inside another on the same task would deadlock")
        await self._db.lock.acquire()
        self._db.holder = task
        self._ws.load(self._db.tables.copy())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._ws.load(None)
        self._db.holder = None
        self._db.lock.release()

    async def commit(self) -> None:
        self._db.tables = self._ws.tables.copy()

    async def rollback(self) -> None:
        self._ws.load(self._db.tables.copy())


class InMemoryUnitOfWorkFactory:
    """A UnitOfWorkFactory: each call is a new Unit of Work on the same database. Also its
    StorageProbe, which always answers."""

    def __init__(self, database: InMemoryDatabase) -> None:
        self.database = database

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.database)

    async def probe(self) -> None:
        return None


# mypy holds the class to the port: a repository that drifts from its Protocol fails.
_satisfies_port: type[UnitOfWork] = InMemoryUnitOfWork
_probes_storage: type[StorageProbe] = InMemoryUnitOfWorkFactory
