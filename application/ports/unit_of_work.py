from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from application.ports.admin import (
    AdminCounts,
    AuditLogRepository,
    ConsoleSessionRepository,
    LocalAdminRepository,
)
from application.ports.exports import ExportRepository
from application.ports.identities import IdentityRepository, IdTokenUseRepository
from application.ports.images import OutboxRepository
from application.ports.repositories import (
    DeviceRepository,
    ImageRepository,
    LoginAttemptRepository,
    SessionRepository,
    TransferCodeRepository,
    UserRepository,
)


class UnitOfWork(Protocol):
    """One transaction: commit() makes every change visible at once; leaving without it
    rolls everything back. One per request or message, never shared."""

    # Read-only: a use case reads the repositories and never replaces one, and an adapter
    # may hand out its own repository classes.
    @property
    def users(self) -> UserRepository: ...
    @property
    def devices(self) -> DeviceRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def transfer_codes(self) -> TransferCodeRepository: ...
    @property
    def login_attempts(self) -> LoginAttemptRepository: ...
    @property
    def images(self) -> ImageRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def audit(self) -> AuditLogRepository: ...
    @property
    def admins(self) -> LocalAdminRepository: ...
    @property
    def console_sessions(self) -> ConsoleSessionRepository: ...
    @property
    def counts(self) -> AdminCounts: ...
    @property
    def identities(self) -> IdentityRepository: ...
    @property
    def id_token_uses(self) -> IdTokenUseRepository: ...
    @property
    def exports(self) -> ExportRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
