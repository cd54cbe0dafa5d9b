"""The account lifecycle: password reset (signed out), password and e-mail change (signed
in)."""

from litestar import Controller, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from application.identity.account import (
    ChangePassword,
    ConfirmEmailChange,
    ConfirmPasswordReset,
    NotAMember,
    RequestEmailChange,
    RequestPasswordReset,
    SameEmail,
    WrongPassword,
)
from application.ports.identity import InvalidConfirmationCode
from domain.users.lockout import AccountLocked
from domain.users.model import EmailInUse, InvalidEmail, WeakPassword
from entrypoints.mobile_api.auth import CurrentUser
from entrypoints.mobile_api.openapi import BODY, SIGNED_IN, errors
from entrypoints.mobile_api.routes.identity import AUTHED, BEARER
from entrypoints.mobile_api.schemas import UserView
from entrypoints.mobile_api.schemas_account import (
    EmailChange,
    EmailChangeAccepted,
    EmailChangeConfirm,
    PasswordChange,
    PasswordResetAccepted,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordSetView,
)
from entrypoints.wiring.di import Injected


class PasswordResetController(Controller):
    path = "/accounts/password-reset"
    tags = ["identity"]

    @post("/", status_code=HTTP_202_ACCEPTED, opt={"limit": "account"},
          responses=errors(BODY, InvalidEmail),
          summary="Mail a password reset code (the same answer for any address)")
    async def request_reset(
        self, data: JSONBody[PasswordResetRequest],
        request_password_reset: Injected[RequestPasswordReset],
    ) -> PasswordResetAccepted:
        """Mails a password reset code to the address if it belongs to a member. The answer is the
        same for any address, so it tells nobody who is registered."""
        await request_password_reset(data.email)
        return PasswordResetAccepted()

    @post("/confirm", status_code=HTTP_200_OK, opt={"limit": "account"},
          responses=errors(BODY, InvalidEmail, WeakPassword, InvalidConfirmationCode),
          summary="Set a new password with the mailed code; every session ends")
    async def confirm_reset(
        self, data: JSONBody[PasswordResetConfirm],
        confirm_password_reset: Injected[ConfirmPasswordReset], source_ip: Injected[str],
    ) -> PasswordSetView:
        """Sets a new password with the mailed code (the one password policy: 12 to 256 characters,
        not a common one); every session of the account ends."""
        await confirm_password_reset(data.email, data.code, data.password, source_ip)
        return PasswordSetView()


class AccountController(Controller):
    path = "/me"
    tags = ["profile"]
    dependencies = AUTHED
    security = BEARER

    @post("/password", status_code=HTTP_204_NO_CONTENT, opt={"limit": "account"},
          responses=errors(SIGNED_IN, BODY, NotAMember, WrongPassword, WeakPassword, AccountLocked),
          summary="Change the password; every other session ends, this one stays")
    async def change_password(
        self, data: JSONBody[PasswordChange], change_password: Injected[ChangePassword],
        principal: CurrentUser, source_ip: Injected[str],
    ) -> None:
        """Changes the password, given the current one; every other session of the user ends, the
        one that asked stays signed in."""
        await change_password(principal, data.current_password, data.password, source_ip)

    @post("/email", status_code=HTTP_202_ACCEPTED, opt={"limit": "account"},
          responses=errors(SIGNED_IN, BODY, NotAMember, WrongPassword, InvalidEmail, SameEmail,
                           EmailInUse, AccountLocked),
          summary="Mail a code to a new address (nothing changes until it is confirmed)")
    async def change_email(
        self, data: JSONBody[EmailChange], request_email_change: Injected[RequestEmailChange],
        principal: CurrentUser, source_ip: Injected[str],
    ) -> EmailChangeAccepted:
        """Mails a confirmation code to the new address, given the current password; nothing changes
        until the code is confirmed."""
        await request_email_change(principal, data.email, data.password, source_ip)
        return EmailChangeAccepted()

    @post("/email/confirm", status_code=HTTP_200_OK, opt={"limit": "account"},
          responses=errors(SIGNED_IN, BODY, NotAMember, InvalidConfirmationCode, EmailInUse),
          summary="Move the account to the new address; the old one is told")
    async def confirm_email(
        self, data: JSONBody[EmailChangeConfirm],
        confirm_email_change: Injected[ConfirmEmailChange], principal: CurrentUser,
    ) -> UserView:
        """Moves the account to the new address with the mailed code; the old address is told of the
        change."""
        return UserView.of(await confirm_email_change(principal, data.code))
