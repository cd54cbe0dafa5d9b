"""Request and response bodies of the mobile API (msgspec: validated, documented, fast)."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from application.auth.tokens import Authenticated, TokenSet
from domain.devices.model import Device
from domain.users.model import User
from domain.users.passwords import PASSWORD_POLICY
from entrypoints.http_edge.email_address import parse_email_address

DeviceId = Annotated[str, msgspec.Meta(
    min_length=10, max_length=128, pattern=r"^[!-~]+$",
    description="IDFV, ANDROID_ID or Firebase installation id: 10-128 printable characters, "
                "no spaces")]
PlatformName = Literal["ios", "android"]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(
    min_length=PASSWORD_POLICY.min_length, max_length=PASSWORD_POLICY.max_length,
    description="A new password: 12 to 256 characters of any kind (spaces welcome, no "
                "required digits or capitals), not a commonly used one")]


class AddressedRequest(msgspec.Struct):
    """A body that names a mailbox: the address is parsed and normalised on arrival, so a
    bad one is a 422 `invalid_email` on every route that takes one."""

    email: Email

    def __post_init__(self) -> None:
        self.email = parse_email_address(self.email)


class GuestRequest(msgspec.Struct, forbid_unknown_fields=False):
    device_id: DeviceId
    platform: PlatformName


class RegisterRequest(AddressedRequest):
    password: Password
    device_id: DeviceId
    platform: PlatformName


class ConfirmRequest(AddressedRequest):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class ResendCodeRequest(AddressedRequest):
    """Asks for a new confirmation code for this address."""


class ResendCodeView(msgspec.Struct):
    status: Literal["accepted"] = "accepted"


class CredentialsRequest(AddressedRequest):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class LoginRequest(AddressedRequest):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    device_id: DeviceId
    platform: PlatformName


class RefreshRequest(msgspec.Struct):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    device_id: DeviceId


class ProfilePatch(msgspec.Struct):
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    notify_by_email: bool | None = None


class RedeemRequest(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    device_id: DeviceId
    platform: PlatformName


class UserView(msgspec.Struct):
    id: str
    kind: Literal["guest", "member"]
    status: Literal["active", "disabled"]
    email: str | None
    email_confirmed: bool
    display_name: str | None
    notify_by_email: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserView":
        return cls(
            id=user.id, kind=user.kind.value, status=user.status.value,
            email=user.email, email_confirmed=user.email_confirmed,
            display_name=user.display_name, notify_by_email=user.notify_by_email,
            created_at=user.created_at,
        )


class TokensView(msgspec.Struct):
    access_token: str
    id_token: str
    refresh_token: str
    token_type: str
    expires_in: int

    @classmethod
    def of(cls, tokens: TokenSet) -> "TokensView":
        return cls(tokens.access_token, tokens.id_token, tokens.refresh_token,
                   tokens.token_type, tokens.expires_in)


class SessionView(msgspec.Struct):
    user: UserView
    tokens: TokensView

    @classmethod
    def of(cls, result: Authenticated) -> "SessionView":
        return cls(UserView.of(result.user), TokensView.of(result.tokens))


class ConfirmedView(msgspec.Struct):
    email: str
    email_confirmed: bool


class DeviceView(msgspec.Struct):
    device_id: str
    platform: Literal["ios", "android"]
    created_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, device: Device) -> "DeviceView":
        return cls(device.device_id, device.platform.value,
                   device.created_at, device.last_seen_at)


class DevicesView(msgspec.Struct):
    devices: list[DeviceView]


class TransferCodeView(msgspec.Struct):
    code: str
    expires_at: datetime


class RealtimeTokenView(msgspec.Struct):
    token: str
    expires_in: int
    url: str


class ErrorDetail(msgspec.Struct):
    code: str
    message: str


class ErrorBody(msgspec.Struct):
    error: ErrorDetail
