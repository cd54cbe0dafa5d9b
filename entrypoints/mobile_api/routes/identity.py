from litestar import Controller, delete, get, patch, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from application.identity.confirm_email import ConfirmEmail
from application.identity.create_guest import CreateGuest
from application.identity.devices import ListDevices, RevokeDevice, UnknownDevice
from application.identity.login import Login
from application.identity.logout import Logout
from application.identity.merge_guest import MergeGuest
from application.identity.profile import UpdateProfile
from application.identity.refresh import RefreshSession
from application.identity.register import Register
from application.identity.resend_code import ResendConfirmationCode
from application.ports.identity import (
    EmailNotConfirmed,
    InvalidConfirmationCode,
    InvalidCredentials,
)
from domain.guests.rules import CannotMergeIntoSelf
from domain.sessions.model import (
    DeviceMismatch,
    InvalidRefreshToken,
    RefreshTokenExpired,
    RefreshTokenReused,
    RefreshTokenRevoked,
)
from domain.shared.errors import ConcurrentUpdate, InvalidInput
from domain.users.lockout import AccountLocked
from domain.users.model import (
    AlreadyMember,
    EmailInUse,
    InvalidEmail,
    NotAGuest,
    UserDisabled,
    WeakPassword,
)
from domain.users.signup import EmailDomainNotAllowed
from entrypoints.mobile_api.auth import (
    CurrentUser,
    MaybeUser,
    provide_optional_principal,
    provide_principal,
)
from entrypoints.mobile_api.openapi import BODY, SIGNED_IN, errors
from entrypoints.mobile_api.schemas import (
    ConfirmedView,
    ConfirmRequest,
    CredentialsRequest,
    DevicesView,
    DeviceView,
    GuestRequest,
    LoginRequest,
    ProfilePatch,
    RefreshRequest,
    RegisterRequest,
    ResendCodeRequest,
    ResendCodeView,
    SessionView,
    UserView,
)
from entrypoints.wiring.di import Injected

AUTHED = {"principal": Provide(provide_principal)}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


class AccountsController(Controller):
    path = "/"
    tags = ["identity"]

    @post("/guests", status_code=HTTP_201_CREATED, opt={"limit": "guests"},
          responses=errors(BODY),
          summary="Create a guest bound to this device")
    async def create_guest(
        self, data: JSONBody[GuestRequest], create_guest: Injected[CreateGuest]
    ) -> SessionView:
        """Creates a guest account bound to this device and answers its first tokens; no e-mail or
        password needed. A guest upgrades in place with `POST /v1/api/accounts`."""
        return SessionView.of(await create_guest(data.device_id, data.platform))

    @post("/accounts", status_code=HTTP_201_CREATED, opt={"limit": "sessions"},
          dependencies={"principal": Provide(provide_optional_principal)},
          responses=errors(SIGNED_IN, BODY, InvalidEmail, WeakPassword, EmailDomainNotAllowed,
                           EmailInUse, AlreadyMember),
          security=BEARER,
          summary="Register; with a guest's bearer token, upgrade that guest in place")
    async def register(
        self, data: JSONBody[RegisterRequest], register: Injected[Register], principal: MaybeUser
    ) -> SessionView:
        """Registers a member with e-mail and password (12 to 256 characters, not a common one) and
        mails a confirmation code; with a guest's bearer token the guest is upgraded in place and
        keeps its images."""
        result = await register(
            data.email, data.password, data.device_id, data.platform, principal)
        return SessionView.of(result)

    @post("/accounts/confirm", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          responses=errors(BODY, InvalidEmail, InvalidConfirmationCode),
          summary="Confirm the e-mail address with its code")
    async def confirm(
        self, data: JSONBody[ConfirmRequest], confirm_email: Injected[ConfirmEmail]
    ) -> ConfirmedView:
        """Confirms the e-mail address with the mailed code; a member logs in once confirmed."""
        user = await confirm_email(data.email, data.code)
        return ConfirmedView(email=user.email if user and user.email else data.email,
                             email_confirmed=True)

    @post("/accounts/confirm/resend", status_code=HTTP_202_ACCEPTED, opt={"limit": "sessions"},
          responses=errors(BODY, InvalidEmail),
          summary="Send a new confirmation code (same answer for any address)")
    async def resend_code(
        self, data: JSONBody[ResendCodeRequest],
        resend_confirmation_code: Injected[ResendConfirmationCode],
    ) -> ResendCodeView:
        """Mails a new confirmation code; the answer is the same for any address."""
        await resend_confirmation_code(data.email)
        return ResendCodeView()

    @post("/accounts/merge-guest", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          dependencies=AUTHED,
          responses=errors(SIGNED_IN, BODY, InvalidEmail, InvalidCredentials, EmailNotConfirmed,
                           AccountLocked, NotAGuest, CannotMergeIntoSelf),
          security=BEARER,
          summary="Move the guest's images to a member and end the guest")
    async def merge_guest(
        self, data: JSONBody[CredentialsRequest], merge_guest: Injected[MergeGuest],
        principal: CurrentUser, source_ip: Injected[str],
    ) -> SessionView:
        """Moves the guest's images to an existing member (the guest's bearer token and the member's
        credentials) and ends the guest."""
        return SessionView.of(
            await merge_guest(principal, data.email, data.password, source_ip))


class SessionsController(Controller):
    path = "/sessions"
    tags = ["identity"]

    @post("/", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          responses=errors(BODY, InvalidEmail, InvalidCredentials, EmailNotConfirmed, UserDisabled,
                           AccountLocked),
          summary="Log in and bind this device")
    async def login(
        self, data: JSONBody[LoginRequest], login: Injected[Login], source_ip: Injected[str]
    ) -> SessionView:
        """Logs a member in with e-mail and password and binds the session to this device; answers
        an access token (1 h) and a refresh token. Repeated failures lock the account for a while
        (429 `account_locked`)."""
        result = await login(
            data.email, data.password, data.device_id, data.platform, source_ip)
        return SessionView.of(result)

    @post("/refresh", status_code=HTTP_200_OK,
          responses=errors(BODY, InvalidRefreshToken, RefreshTokenExpired, RefreshTokenRevoked,
                           RefreshTokenReused, DeviceMismatch, ConcurrentUpdate),
          summary="New tokens; the refresh token rotates")
    async def refresh(
        self, data: JSONBody[RefreshRequest], refresh_session: Injected[RefreshSession]
    ) -> SessionView:
        """New tokens for a refresh token and the device it is bound to; the refresh token rotates
        on every use. A rotated token presented again ends its whole session (401
        `refresh_token_reused`)."""
        return SessionView.of(await refresh_session(data.refresh_token, data.device_id))

    @delete("/current", status_code=HTTP_204_NO_CONTENT, dependencies=AUTHED,
            responses=errors(SIGNED_IN), security=BEARER, summary="Log out this device")
    async def logout(self, logout: Injected[Logout], principal: CurrentUser) -> None:
        """Logs this device out: its session ends and its sockets close."""
        await logout(principal)


class MeController(Controller):
    path = "/me"
    tags = ["profile"]
    dependencies = AUTHED
    security = BEARER

    @get("/", responses=errors(SIGNED_IN), summary="The signed-in user")
    async def me(self, principal: CurrentUser) -> UserView:
        """The signed-in user: kind (guest or member), e-mail, display name and preferences."""
        return UserView.of(principal.user)

    @patch("/",
           responses=errors(SIGNED_IN, BODY, InvalidInput),
           summary="Update profile and preferences")
    async def update(
        self, data: JSONBody[ProfilePatch], update_profile: Injected[UpdateProfile],
        principal: CurrentUser,
    ) -> UserView:
        """Updates the display name and preferences (e-mail on image ready); fields left out stay as
        they are."""
        user = await update_profile(principal, data.display_name, data.notify_by_email)
        return UserView.of(user)

    @get("/devices", responses=errors(SIGNED_IN), summary="Devices signed in")
    async def devices(
        self, list_devices: Injected[ListDevices], principal: CurrentUser
    ) -> DevicesView:
        """The devices signed in to this account, with when each was last seen."""
        found = await list_devices(principal.user.id)
        return DevicesView([DeviceView.of(d) for d in found])

    @delete("/devices/{device_id:str}", status_code=HTTP_204_NO_CONTENT,
            responses=errors(SIGNED_IN, UnknownDevice), summary="Sign a device out")
    async def revoke_device(
        self, device_id: FromPath[str], revoke_device: Injected[RevokeDevice],
        principal: CurrentUser,
    ) -> None:
        """Signs another device out: its sessions end and its sockets close with 1008."""
        await revoke_device(principal.user.id, device_id)
