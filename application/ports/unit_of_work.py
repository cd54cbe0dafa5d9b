from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from application.ports.admin import AuditLogRepository, LocalAdminRepository
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

    users: UserRepository
    devices: DeviceRepository
    sessions: SessionRepository
    transfer_codes: TransferCodeRepository
    login_attempts: LoginAttemptRepository
    images: ImageRepository
    outbox: OutboxRepository
    audit: AuditLogRepository
    admins: LocalAdminRepository

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
