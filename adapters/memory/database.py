"""The in-memory database: committed tables shared by every Unit of Work built on it."""

import asyncio
import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.ports.deletion_codes import DeletionCode
from application.ports.images import OutboxMessage
from domain.admins.console_session import ConsoleSession
from domain.admins.model import AuditEntry, LocalAdmin
from domain.devices.model import Device
from domain.exports.model import DataExport
from domain.images.model import ImageJob, ImageStatus
from domain.images.options import ImageQuality, ImageSize
from domain.sessions.model import RefreshFamily
from domain.shared.clock import utcnow
from domain.transfers.model import TransferCode
from domain.users.identities import LinkedIdentity, Provider
from domain.users.lockout import LoginAttempts
from domain.users.model import User


@dataclass
class OutboxRecord:
    message: OutboxMessage
    published_at: datetime | None = None
    attempts: int = 0


@dataclass
class Tables:
    """Every table as a dict; a Unit of Work works on a deep copy of these."""

    users: dict[str, User] = field(default_factory=dict)
    devices: dict[tuple[str, str], Device] = field(default_factory=dict)
    sessions: dict[str, RefreshFamily] = field(default_factory=dict)
    token_hashes: dict[str, str] = field(default_factory=dict)
    """Every refresh-token hash ever issued -> its family id."""
    transfer_codes: dict[str, TransferCode] = field(default_factory=dict)
    login_attempts: dict[tuple[str, str], LoginAttempts] = field(default_factory=dict)
    """(e-mail, source) -> failed logins in a row."""
    images: dict[str, ImageJob] = field(default_factory=dict)
    outbox: dict[str, OutboxRecord] = field(default_factory=dict)
    admins: dict[str, LocalAdmin] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    identities: dict[tuple[Provider, str], LinkedIdentity] = field(default_factory=dict)
    """(provider, subject) -> the Apple or Google sign-in linked to a user."""
    id_token_uses: dict[tuple[Provider, str], tuple[str, datetime]] = field(
        default_factory=dict)
    """(provider, SHA-256 of an accepted ID token) -> (its device, the token's expiry)."""
    exports: dict[str, DataExport] = field(default_factory=dict)
    console_sessions: dict[str, ConsoleSession] = field(default_factory=dict)
    """SHA-256 of a web console session id -> the sign-in."""
    deletion_codes: dict[str, DeletionCode] = field(default_factory=dict)
    """User id -> the code the public deletion page mailed to that member."""

    def copy(self) -> "Tables":
        return copy.deepcopy(self)


@dataclass
class InMemoryDatabase:
    """Committed state plus the lock that makes transactions serial."""

    tables: Tables = field(default_factory=Tables)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holder: "asyncio.Task[object] | None" = None

    def insert_image(self, image_id: str, user_id: str, **fields: Any) -> None:
        """Stores an image job directly (committed), for tests."""
        now = utcnow()
        values: dict[str, Any] = {
            "prompt": "a red fox", "size": ImageSize.SQUARE, "quality": ImageQuality.LOW,
            "created_at": now, "updated_at": now, "status": ImageStatus.QUEUED, **fields,
        }
        self.tables.images[image_id] = ImageJob(id=image_id, user_id=user_id, **values)

    def image(self, image_id: str) -> ImageJob | None:
        return copy.deepcopy(self.tables.images.get(image_id))
