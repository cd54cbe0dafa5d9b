"""Ports of the admin API: its audit log, local admins, password hashing, admin tokens."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.admins.console_session import ConsoleSession
from domain.admins.model import AdminIdentity, AuditEntry, LocalAdmin
from domain.images.model import ImageStatus
from domain.users.model import UserKind, UserStatus


@dataclass(frozen=True)
class UserQuery:
    """Admin search: every given field must match; `email` matches a prefix."""

    email: str | None = None
    user_id: str | None = None
    kind: UserKind | None = None
    status: UserStatus | None = None


UserCursor = tuple[datetime, str]
"""(created_at, id) of the last user of a page; the next page starts strictly after it."""


class AuditLogRepository(Protocol):
    """Append-only: entries are added and read, never changed or removed."""

    async def append(self, entry: AuditEntry) -> None: ...

    async def page(
        self, limit: int, before: int | None = None, action: str | None = None,
        target_id: str | None = None, actor: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `before` is the `seq` of the last entry already seen; `actor`
        matches the actor (`local:{id}`) or its e-mail; `since` <= at < `until`."""
        ...


class LocalAdminRepository(Protocol):
    async def get(self, admin_id: str) -> LocalAdmin | None: ...
    async def get_by_email(self, email: str) -> LocalAdmin | None: ...
    async def add(self, admin: LocalAdmin) -> None:
        """Raises Conflict when the e-mail is taken."""
        ...
    async def update(self, admin: LocalAdmin) -> None: ...


class ConsoleSessionRepository(Protocol):
    """Web console sign-ins, keyed by the SHA-256 of the browser's session id."""

    async def add(self, session: ConsoleSession) -> None: ...
    async def get(self, id_sha256: str) -> ConsoleSession | None: ...
    async def touch(self, id_sha256: str, last_seen_at: datetime) -> None:
        """Moves last_seen_at forward (never back)."""
        ...
    async def delete(self, id_sha256: str) -> bool:
        """True when there was such a session."""
        ...
    async def delete_for_admin(self, subject: str) -> int:
        """Ends every session of one admin; how many there were."""
        ...
    async def delete_expired(self, expired_before: datetime, idle_before: datetime) -> int:
        """Sessions past their absolute limit or last seen before `idle_before`."""
        ...


class AdminCounts(Protocol):
    """What the console's overview counts."""

    async def users_by_kind(self) -> dict[UserKind, int]: ...
    async def images_by_status(self, since: datetime) -> dict[ImageStatus, int]:
        """Images created at or after `since`, by status (hidden ones included)."""
        ...


class PasswordHasher(Protocol):
    """argon2id in every adapter; hashing runs off the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...


class AdminTokenVerifier(Protocol):
    """A bearer token -> the admin behind it (local EdDSA token or a Cognito access
    token of an `admins` member); raises Unauthorized or NotAnAdmin."""

    async def verify(self, token: str) -> AdminIdentity: ...
