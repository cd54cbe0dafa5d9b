"""Request and response bodies of the admin API (msgspec)."""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from application.admin.users import UserDetails
from domain.admins.model import AuditEntry
from domain.devices.model import Device
from domain.images.model import ImageJob
from domain.keys.model import SigningKey
from domain.shared.errors import InvalidInput
from domain.users.model import User
from entrypoints.http_edge.email_address import parse_email_address

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class InvalidCursor(InvalidInput):
    """The cursor is not one this API handed out."""

    code = "invalid_cursor"


def encode_cursor(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor() from None


def user_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    try:
        created, user_id = value
        at = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        raise InvalidCursor() from None
    if not isinstance(user_id, str) or at.tzinfo is None:
        raise InvalidCursor()
    return at, user_id


def seq_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidCursor()
    return value


class LoginRequest(msgspec.Struct):
    email: Email
    password: Password

    def __post_init__(self) -> None:
        self.email = parse_email_address(self.email)


class AdminView(msgspec.Struct):
    id: str
    email: str


class AdminSessionView(msgspec.Struct):
    token: str
    token_type: str
    expires_in: int
    admin: AdminView


class UserView(msgspec.Struct):
    id: str
    kind: Literal["guest", "member"]
    status: Literal["active", "disabled"]
    email: str | None
    email_confirmed: bool
    external_id: str | None
    display_name: str | None
    created_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserView":
        return cls(
            id=user.id, kind=user.kind.value, status=user.status.value,
            email=user.email, email_confirmed=user.email_confirmed,
            external_id=user.external_id, display_name=user.display_name,
            created_at=user.created_at, last_seen_at=user.last_seen_at,
        )


class UserPageView(msgspec.Struct):
    users: list[UserView]
    next_cursor: str | None


class AdminImageView(msgspec.Struct):
    id: str
    user_id: str
    status: Literal["queued", "generating", "ready", "failed", "deleted"]
    hidden: bool
    prompt: str
    size: str
    quality: str
    object_key: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: ImageJob) -> "AdminImageView":
        return cls(
            id=job.id, user_id=job.user_id, status=job.status.value,
            hidden=job.hidden, prompt=job.prompt, size=str(job.size), quality=str(job.quality),
            object_key=job.object_key, failure_reason=job.failure_reason,
            created_at=job.created_at, updated_at=job.updated_at,
        )


class AdminImagePageView(msgspec.Struct):
    images: list[AdminImageView]
    next_cursor: str | None


class DeviceView(msgspec.Struct):
    device_id: str
    platform: Literal["ios", "android"]
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, device: Device) -> "DeviceView":
        return cls(device.device_id, device.platform.value,
                   device.created_at, device.last_seen_at, device.revoked_at)


class DevicesView(msgspec.Struct):
    devices: list[DeviceView]


class UserDetailView(msgspec.Struct):
    user: UserView
    devices: list[DeviceView]
    image_count: int
    live_sessions: int

    @classmethod
    def of(cls, details: UserDetails) -> "UserDetailView":
        return cls(UserView.of(details.user), [DeviceView.of(d) for d in details.devices],
                   details.image_count, details.live_sessions)


class PublicJwk(msgspec.Struct):
    kty: str
    crv: str
    x: str
    kid: str
    use: str
    alg: str


class KeyView(msgspec.Struct):
    """A signing key's public half and timeline; the private half never leaves the store."""

    kid: str
    state: Literal["next", "active", "retiring", "retired", "revoked"]
    created_at: datetime
    activated_at: datetime | None
    retiring_at: datetime | None
    retired_at: datetime | None
    revoked_at: datetime | None
    public_jwk: PublicJwk

    @classmethod
    def of(cls, key: SigningKey) -> "KeyView":
        return cls(
            kid=key.kid, state=key.state.value,
            created_at=key.created_at, activated_at=key.activated_at,
            retiring_at=key.retiring_at, retired_at=key.retired_at,
            revoked_at=key.revoked_at, public_jwk=PublicJwk(**key.jwk()),
        )


class KeysView(msgspec.Struct):
    keys: list[KeyView]


class KeyMovesView(msgspec.Struct):
    moves: list[str]


Channel = Annotated[str, msgspec.Meta(
    min_length=1, max_length=80, pattern=r"^(broadcast|user:[A-Za-z0-9_-]{1,64})$",
    description="`broadcast` (every connected phone) or `user:{id}`")]


class BroadcastRequest(msgspec.Struct):
    channel: Channel
    data: Annotated[dict[str, Any], msgspec.Meta(max_length=50)]


class BroadcastView(msgspec.Struct):
    channel: str
    published: bool


class AuditEntryView(msgspec.Struct):
    seq: int
    at: datetime
    actor: str
    actor_email: str | None
    action: str
    target_type: str
    target_id: str
    source_ip: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditEntryView":
        return cls(entry.seq or 0, entry.at, entry.actor, entry.actor_email, entry.action,
                   entry.target_type, entry.target_id, entry.source_ip, entry.details)


class AuditPageView(msgspec.Struct):
    entries: list[AuditEntryView]
    next_cursor: str | None


class ErrorDetail(msgspec.Struct):
    code: str
    message: str


class ErrorBody(msgspec.Struct):
    error: ErrorDetail
