"""IdentityProvider backed by an Amazon Cognito user pool (the e-mail is the user name)."""

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import aioboto3
import jwt
from botocore.exceptions import ClientError

from adapters.aws.clients import aws_client, error_code
from adapters.local.identity import EMAIL_CHANGE, send_email_change_code
from adapters.local.lifecycle_codes import LifecycleCodes
from application.ports.identity import (
    CodeExpired,
    EmailNotConfirmed,
    InvalidCode,
    InvalidConfirmationCode,
    InvalidCredentials,
)
from application.ports.messaging import Mailer
from application.ports.provider_links import LinkRefused
from domain.shared.errors import Forbidden, NotFound
from domain.users.identities import Provider
from domain.users.model import EmailInUse, WeakPassword
from domain.users.signup import EmailDomainNotAllowed

# Cognito's fixed names for its social identity providers (the pool must have them set up).
COGNITO_PROVIDER_NAMES = {Provider.APPLE: "SignInWithApple", Provider.GOOGLE: "Google"}
# A source identity Cognito already links to another login (or to this one, on a retry).
_LINKED_ELSEWHERE = ("AliasExistsException", "InvalidParameterException")

# Errors that mean unknown, unconfirmed, disabled or over Cognito's own limit: answered as
# success, so a code request never tells whether an address is registered.
_SILENT_FOR_ANY_ADDRESS = (
    "UserNotFoundException", "InvalidParameterException", "NotAuthorizedException",
    "LimitExceededException", "CodeDeliveryFailureException",
)


class CognitoIdentityProvider:
    """Sign-up, confirmation, USER_PASSWORD_AUTH log-in and admin enable/disable."""

    def __init__(
        self, client: Any, user_pool_id: str, client_id: str, client_secret: str | None = None,
        *, email_codes: LifecycleCodes | None = None, mailer: Mailer | None = None,
    ) -> None:
        """`email_codes` and `mailer` carry the e-mail-change codes; without them an e-mail
        change is refused (`email_change_unavailable`)."""
        self._client = client
        self._user_pool_id, self._client_id = user_pool_id, client_id
        self._client_secret = client_secret
        self._email_codes, self._mailer = email_codes, mailer

    @classmethod
    @asynccontextmanager
    async def create(
        cls,
        session: aioboto3.Session,
        user_pool_id: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        region: str,
        endpoint_url: str | None = None,
    ) -> AsyncIterator[Self]:
        async with aws_client(session, "cognito-idp", region=region,
                              endpoint_url=endpoint_url) as client:
            yield cls(client, user_pool_id, client_id, client_secret)

    def _secret_hash(self, username: str) -> dict[str, str]:
        if self._client_secret is None:
            return {}
        digest = hmac.new(
            self._client_secret.encode(), (username + self._client_id).encode(), hashlib.sha256
        ).digest()
        return {"SecretHash": base64.b64encode(digest).decode()}

    async def register(self, email: str, password: str) -> str:
        try:
            response = await self._client.sign_up(
                ClientId=self._client_id,
                Username=email,
                Password=password,
                UserAttributes=[{"Name": "email", "Value": email}],
                **self._secret_hash(email),
            )
        except ClientError as exc:
            code = error_code(exc)
            if code in ("UsernameExistsException", "AliasExistsException"):
                raise EmailInUse() from None
            if code == "InvalidPasswordException":
                raise WeakPassword() from None
            if code == "UserLambdaValidationException":
                # The pre sign-up trigger refused the address (entrypoints/lambdas).
                raise EmailDomainNotAllowed() from None
            raise
        subject: str = response["UserSub"]
        return subject

    async def confirm(self, email: str, code: str) -> str:
        try:
            await self._client.confirm_sign_up(
                ClientId=self._client_id,
                Username=email,
                ConfirmationCode=code,
                **self._secret_hash(email),
            )
        except ClientError as exc:
            # NotAuthorized: already confirmed; UserNotFound: never registered. Neither is
            # told apart from a wrong code, so confirm cannot probe for addresses.
            if error_code(exc) in (
                "CodeMismatchException", "ExpiredCodeException", "TooManyFailedAttemptsException",
                "NotAuthorizedException", "UserNotFoundException",
            ):
                raise InvalidConfirmationCode() from None
            raise
        return await self._subject(email)

    async def resend_code(self, email: str) -> None:
        try:
            await self._client.resend_confirmation_code(
                ClientId=self._client_id, Username=email, **self._secret_hash(email))
        except ClientError as exc:
            # Unknown, already confirmed, or Cognito's own per-user limit: all silent, so
            # the answer never tells whether an address is registered.
            if error_code(exc) in _SILENT_FOR_ANY_ADDRESS:
                return
            raise

    async def authenticate(self, email: str, password: str) -> str:
        parameters = {"USERNAME": email, "PASSWORD": password}
        if self._client_secret is not None:
            parameters["SECRET_HASH"] = self._secret_hash(email)["SecretHash"]
        try:
            response = await self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters=parameters,
            )
        except ClientError as exc:
            code = error_code(exc)
            if code in ("NotAuthorizedException", "UserNotFoundException"):
                raise InvalidCredentials() from None
            if code == "UserNotConfirmedException":
                raise EmailNotConfirmed() from None
            raise
        result = response.get("AuthenticationResult")
        if result is None:
            # A challenge (MFA, NEW_PASSWORD_REQUIRED) that this API does not offer.
            raise InvalidCredentials()
        # Decoding without verifying the signature is safe here only because the token came
        # straight from Cognito over TLS in the response to our own call; it is never a token
        # a client presented, and it is not kept or passed on.
        claims = jwt.decode(result["AccessToken"], options={"verify_signature": False})
        subject = claims.get("sub")
        if isinstance(subject, str) and subject:
            return subject
        return await self._subject(email)

    async def disable(self, email: str) -> None:
        await self._admin("admin_disable_user", email)
        await self._admin("admin_user_global_sign_out", email)

    async def enable(self, email: str) -> None:
        await self._admin("admin_enable_user", email)

    async def delete_login(self, subject: str) -> None:
        # By subject (the pool's internal user name, since the e-mail is a username
        # attribute), never by address: a retry must not reach whoever registers it next.
        try:
            await self._client.admin_delete_user(UserPoolId=self._user_pool_id, Username=subject)
        except ClientError as exc:
            if error_code(exc) != "UserNotFoundException":
                raise

    # Linked Apple and Google sign-ins, mirrored from Atelier's own table (which decides):
    # AdminLinkProviderForUser / AdminDisableProviderForUser, keyed by the pool's user name
    # (the subject, since the e-mail is a username attribute) and the provider's `sub`.

    async def link_provider(self, login_subject: str, provider: Provider, subject: str) -> None:
        try:
            await self._link(login_subject, provider, subject)
        except ClientError as exc:
            if error_code(exc) == "UserNotFoundException":
                raise LinkRefused("the login is not in the user pool") from None
            if error_code(exc) not in _LINKED_ELSEWHERE:
                raise
            # Linked to a deleted or other login, or already here: move it, once.
            try:
                await self.unlink_provider(provider, subject)
                await self._link(login_subject, provider, subject)
            except ClientError as again:
                if error_code(again) in (*_LINKED_ELSEWHERE, "UserNotFoundException"):
                    raise LinkRefused(f"the user pool refuses the link: {again}") from None
                raise

    async def unlink_provider(self, provider: Provider, subject: str) -> None:
        try:
            await self._client.admin_disable_provider_for_user(
                UserPoolId=self._user_pool_id, User=_source_user(provider, subject))
        except ClientError as exc:
            if error_code(exc) != "UserNotFoundException":
                raise

    async def _link(self, login_subject: str, provider: Provider, subject: str) -> None:
        await self._client.admin_link_provider_for_user(
            UserPoolId=self._user_pool_id,
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": login_subject},
            SourceUser=_source_user(provider, subject))

    async def _subject(self, email: str) -> str:
        response = await self._admin("admin_get_user", email)
        for attribute in response.get("UserAttributes", []):
            if attribute["Name"] == "sub":
                subject: str = attribute["Value"]
                return subject
        raise NotFound("the user pool returned no subject for that login")

    async def _admin(self, operation: str, email: str) -> Any:
        try:
            return await getattr(self._client, operation)(
                UserPoolId=self._user_pool_id, Username=email
            )
        except ClientError as exc:
            if error_code(exc) == "UserNotFoundException":
                raise NotFound("no such login") from None
            raise

    # Account lifecycle. Cognito mails and checks the reset code itself (ForgotPassword /
    # ConfirmForgotPassword, its own expiry and attempt limit).

    async def request_password_reset(self, email: str) -> None:
        try:
            await self._client.forgot_password(
                ClientId=self._client_id, Username=email, **self._secret_hash(email))
        except ClientError as exc:
            # Unknown, unconfirmed, disabled or over Cognito's limit: all silent, so the
            # answer never tells whether an address is registered.
            if error_code(exc) in _SILENT_FOR_ANY_ADDRESS:
                return
            raise

    async def confirm_password_reset(self, email: str, code: str, password: str) -> str:
        try:
            await self._client.confirm_forgot_password(
                ClientId=self._client_id, Username=email, ConfirmationCode=code,
                Password=password, **self._secret_hash(email))
        except ClientError as exc:
            code_ = error_code(exc)
            if code_ == "InvalidPasswordException":
                raise WeakPassword() from None
            if code_ in ("ExpiredCodeException", "TooManyFailedAttemptsException",
                         "LimitExceededException"):
                raise CodeExpired() from None
            if code_ in ("CodeMismatchException", "UserNotFoundException",
                         "NotAuthorizedException"):
                raise InvalidCode() from None
            raise
        return await self._subject(email)

    async def change_password(self, email: str, current_password: str, password: str) -> None:
        access_token = await self._access_token(email, current_password)
        try:
            await self._client.change_password(
                PreviousPassword=current_password, ProposedPassword=password,
                AccessToken=access_token)
        except ClientError as exc:
            code = error_code(exc)
            if code == "InvalidPasswordException":
                raise WeakPassword() from None
            if code == "NotAuthorizedException":
                raise InvalidCredentials() from None
            raise

    # E-mail change: Cognito checks a new address's code only with the user's own access
    # token (VerifyUserAttribute), which the confirming request does not carry. So the
    # code is this adapter's (kept like the local provider's, mailed by the Mailer) and the
    # address moves with AdminUpdateUserAttributes once it is right.

    async def request_email_change(self, email: str, new_email: str) -> None:
        if self._email_codes is None or self._mailer is None:
            raise EmailChangeUnsupported()
        subject = await self._subject(email)
        try:
            await self._client.admin_get_user(UserPoolId=self._user_pool_id, Username=new_email)
        except ClientError as exc:
            if error_code(exc) != "UserNotFoundException":
                raise
        else:
            raise EmailInUse()
        await send_email_change_code(self._email_codes, self._mailer, subject, new_email)

    async def confirm_email_change(self, email: str, code: str) -> str:
        if self._email_codes is None:
            raise EmailChangeUnsupported()
        subject = await self._subject(email)
        taken = await self._email_codes.take(subject, EMAIL_CHANGE, code)
        new_email = taken.new_email
        if new_email is None or not await self._email_codes.spend(taken):
            raise InvalidCode()
        try:
            await self._client.admin_update_user_attributes(
                UserPoolId=self._user_pool_id, Username=email, UserAttributes=[
                    {"Name": "email", "Value": new_email},
                    {"Name": "email_verified", "Value": "true"}])
        except ClientError as exc:
            if error_code(exc) in ("AliasExistsException", "UsernameExistsException"):
                raise EmailInUse() from None
            raise
        return new_email

    async def _access_token(self, email: str, password: str) -> str:
        parameters = {"USERNAME": email, "PASSWORD": password}
        if self._client_secret is not None:
            parameters["SECRET_HASH"] = self._secret_hash(email)["SecretHash"]
        try:
            response = await self._client.initiate_auth(
                ClientId=self._client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters=parameters)
        except ClientError as exc:
            if error_code(exc) in ("NotAuthorizedException", "UserNotFoundException",
                                   "UserNotConfirmedException"):
                raise InvalidCredentials() from None
            raise
        result = response.get("AuthenticationResult")
        if result is None:
            raise InvalidCredentials()
        token: str = result["AccessToken"]
        return token


def _source_user(provider: Provider, subject: str) -> dict[str, str]:
    return {"ProviderName": COGNITO_PROVIDER_NAMES[provider],
            "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": subject}


class EmailChangeUnsupported(Forbidden):
    """Changing the e-mail address is not set up for this identity provider."""

    code = "email_change_unavailable"
