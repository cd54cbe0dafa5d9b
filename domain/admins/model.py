"""Administrators and the append-only record of what they did."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.shared.errors import Forbidden, Unauthorized

ADMINS_GROUP = "admins"


class AdminSource(StrEnum):
    LOCAL = "local"
    COGNITO = "cognito"
    CLI = "cli"


class NotAnAdmin(Forbidden):
    """Only members of the admins group may do this."""

    code = "not_an_admin"


class InvalidAdminCredentials(Unauthorized):
    """E-mail or password is wrong."""

    code = "invalid_credentials"


class LocalLoginDisabled(Forbidden):
    """Local admin log-in is off here; sign in through the identity provider."""

    code = "local_login_disabled"


@dataclass(frozen=True)
class AdminIdentity:
    """Who is acting: a local admin, a Cognito `admins` member, or the operator's CLI."""

    subject: str
    source: AdminSource
    email: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.source.value}:{self.subject}"


@dataclass
class LocalAdmin:
    """An administrator of the embedded default (`atelier admin create`)."""

    id: str
    email: str
    password_hash: str
    created_at: datetime
    disabled: bool = False

    def ensure_active(self) -> None:
        if self.disabled:
            raise InvalidAdminCredentials()


@dataclass(frozen=True)
class AuditEntry:
    """One admin action: who, what, on which target, when, from where. Never changed."""

    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    source_ip: str | None = None
    actor_email: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None

    @classmethod
    def of(
        cls, admin: AdminIdentity, action: str, target_type: str, target_id: str,
        now: datetime, source_ip: str | None, **details: Any,
    ) -> "AuditEntry":
        return cls(now, admin.actor, action, target_type, target_id, source_ip,
                   admin.email, dict(details))
