"""The embedded stand-in for Cognito: argon2id passwords and e-mailed 6-digit codes."""

import asyncio
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from adapters.local.credentials import CredentialStore, LocalCredential
from application.ports.clock import Clock
from application.ports.identity import (
    EmailNotConfirmed,
    InvalidConfirmationCode,
    InvalidCredentials,
)
from application.ports.messaging import Email, Mailer
from domain.shared.errors import NotFound
from domain.users.model import EmailInUse

SignUpHook = Callable[[str], Awaitable[None]]
"""Pre sign-up check (the Cognito trigger's job): gets the e-mail, raises to refuse it."""
ConfirmedHook = Callable[[str, str], Awaitable[None]]
"""Post confirmation (the Cognito trigger's job): gets the e-mail and the subject."""

CONFIRMATION_SUBJECT = "Your Atelier confirmation code"
RESEND_INTERVAL = timedelta(minutes=1)


def _code_hash(subject: str, code: str) -> str:
    return hashlib.sha256(f"{subject}:{code}".encode()).hexdigest()


class LocalIdentityProvider:
    """IdentityProvider over a CredentialStore; mail goes through the Mailer port."""

    def __init__(
        self,
        store: CredentialStore,
        mailer: Mailer,
        clock: Clock,
        hasher: PasswordHasher | None = None,
        *,
        code_lifetime: timedelta = timedelta(hours=24),
        max_code_attempts: int = 5,
        on_sign_up: SignUpHook | None = None,
        on_confirmed: ConfirmedHook | None = None,
    ) -> None:
        """`hasher` sets the argon2id cost; the default is argon2-cffi's, RFC 9106's second
        recommended option (t=3, 64 MiB, p=4). Tests pass a cheap one."""
        self._store, self._mailer, self._clock = store, mailer, clock
        self._hasher = hasher if hasher is not None else PasswordHasher(type=Type.ID)
        self._code_lifetime, self._max_code_attempts = code_lifetime, max_code_attempts
        self._on_sign_up, self._on_confirmed = on_sign_up, on_confirmed
        self._dummy_hash: str | None = None

    async def register(self, email: str, password: str) -> str:
        if self._on_sign_up is not None:
            await self._on_sign_up(email)
        if await self._store.get(email) is not None:
            raise EmailInUse()
        subject = str(uuid.uuid4())
        credential = LocalCredential(
            email=email,
            subject=subject,
            password_hash=await asyncio.to_thread(self._hasher.hash, password),
            created_at=self._clock(),
        )
        code = self._new_code(credential)
        await self._store.add(credential)
        await self._send_code(email, code)
        return subject

    async def resend_code(self, email: str) -> None:
        credential = await self._store.get(email)
        if credential is None or credential.confirmed or credential.disabled:
            return
        expires_at = credential.code_expires_at
        used_up = credential.code_attempts >= self._max_code_attempts
        if expires_at is not None and not used_up:
            sent_at = expires_at - self._code_lifetime
            if self._clock() - sent_at < RESEND_INTERVAL:
                return  # one code a minute per address, however often it is asked for
        code = self._new_code(credential)
        await self._store.update(credential)
        await self._send_code(email, code)

    def _new_code(self, credential: LocalCredential) -> str:
        code = f"{secrets.randbelow(10**6):06d}"
        credential.code_hash = _code_hash(credential.subject, code)
        credential.code_expires_at = self._clock() + self._code_lifetime
        credential.code_attempts = 0
        return code

    async def _send_code(self, email: str, code: str) -> None:
        hours = int(self._code_lifetime.total_seconds() // 3600)
        await self._mailer.send(Email(
            to=email,
            subject=CONFIRMATION_SUBJECT,
            body=(
                f"Your Atelier confirmation code is {code}\n\n"
                f"It expires in {hours} hours. If you did not sign up, ignore this message.\n"
            ),
        ))

    async def confirm(self, email: str, code: str) -> str:
        # The attempt is taken (counted, atomically) before the code is compared, so a
        # burst of guesses gets no more comparisons than the cap.
        credential = await self._store.take_code_attempt(
            email, self._clock(), self._max_code_attempts)
        if credential is None or credential.code_hash is None:
            raise InvalidConfirmationCode()
        if not hmac.compare_digest(credential.code_hash, _code_hash(credential.subject, code)):
            raise InvalidConfirmationCode()
        if not await self._store.confirm_with(email, credential.code_hash):
            raise InvalidConfirmationCode()
        if self._on_confirmed is not None:
            await self._on_confirmed(email, credential.subject)
        return credential.subject

    async def authenticate(self, email: str, password: str) -> str:
        credential = await self._store.get(email)
        if credential is None:
            # Same work as for a real login, so the answer's timing does not reveal the address.
            await self._verify(await self._dummy(), password)
            raise InvalidCredentials()
        if not await self._verify(credential.password_hash, password):
            raise InvalidCredentials()
        # Only someone who knows the password learns the account's state.
        if credential.disabled:
            raise InvalidCredentials()
        if not credential.confirmed:
            raise EmailNotConfirmed()
        if self._hasher.check_needs_rehash(credential.password_hash):
            credential.password_hash = await asyncio.to_thread(self._hasher.hash, password)
            await self._store.update(credential)
        return credential.subject

    async def disable(self, email: str) -> None:
        credential = await self._require(email)
        credential.disabled = True
        await self._store.update(credential)

    async def enable(self, email: str) -> None:
        credential = await self._require(email)
        credential.disabled = False
        await self._store.update(credential)

    async def delete_login(self, subject: str) -> None:
        await self._store.delete_subject(subject)

    async def _require(self, email: str) -> LocalCredential:
        credential = await self._store.get(email)
        if credential is None:
            raise NotFound("no such login")
        return credential

    async def _verify(self, password_hash: str, password: str) -> bool:
        def verify() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(verify)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(
                self._hasher.hash, secrets.token_urlsafe(16))
        return self._dummy_hash
