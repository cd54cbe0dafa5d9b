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

from adapters.local.credentials import CredentialStore, LocalCode, LocalCredential
from adapters.local.lifecycle_codes import LifecycleCodes
from application.ports.clock import Clock
from application.ports.identity import (
    EmailNotConfirmed,
    InvalidCode,
    InvalidConfirmationCode,
    InvalidCredentials,
)
from application.ports.messaging import Email, Mailer
from domain.shared.errors import NotFound
from domain.users.identities import Provider
from domain.users.model import EmailInUse, UserDisabled

SignUpHook = Callable[[str], Awaitable[None]]
"""Pre sign-up check (the Cognito trigger's job): gets the e-mail, raises to refuse it."""
ConfirmedHook = Callable[[str, str], Awaitable[None]]
"""Post confirmation (the Cognito trigger's job): gets the e-mail and the subject."""

CONFIRMATION_SUBJECT = "Your Atelier confirmation code"
RESET_SUBJECT = "Your Atelier password reset code"
EMAIL_CHANGE_SUBJECT = "Confirm your new Atelier e-mail address"
RESEND_INTERVAL = timedelta(minutes=1)
RESET, EMAIL_CHANGE = "reset", "email"


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
        self._codes = LifecycleCodes(
            store, clock, lifetime=code_lifetime, max_attempts=max_code_attempts)

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
            raise UserDisabled()
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

    # Apple and Google links live in Atelier's identities table alone: nothing to mirror.

    async def link_provider(self, login_subject: str, provider: Provider, subject: str) -> None:
        return None

    async def unlink_provider(self, provider: Provider, subject: str) -> None:
        return None

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

    # Account lifecycle: reset and e-mail-change codes live beside the login, one per
    # purpose; like the confirmation code, an attempt is taken before comparing.

    async def request_password_reset(self, email: str) -> None:
        credential = await self._store.get(email)
        live = credential is not None and credential.confirmed and not credential.disabled
        subject = credential.subject if credential is not None and live else str(uuid.uuid4())
        record = await self._codes.get(subject, RESET)
        issued = self._codes.issue(record or LocalCode(subject, RESET))
        if not live or issued is None:
            return  # the same reads and hashing as a real request, nothing written or sent
        await self._codes.save(issued)
        await self._send(email, RESET_SUBJECT, (
            f"Your Atelier password reset code is {issued.code}\n\n"
            f"It expires in {self._hours()} hours. If you did not ask for it, ignore this "
            "message: your password stays as it is.\n"))

    async def confirm_password_reset(self, email: str, code: str, password: str) -> str:
        credential = await self._store.get(email)
        subject = credential.subject if credential is not None else str(uuid.uuid4())
        taken = await self._codes.take(subject, RESET, code)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        if credential is None or not await self._codes.spend(taken):
            raise InvalidCode()
        credential.password_hash = password_hash
        await self._store.update(credential)
        return credential.subject

    async def change_password(self, email: str, current_password: str, password: str) -> None:
        credential = await self._store.get(email)
        if credential is None or not await self._verify(credential.password_hash,
                                                        current_password):
            raise InvalidCredentials()
        credential.password_hash = await asyncio.to_thread(self._hasher.hash, password)
        await self._store.update(credential)

    async def request_email_change(self, email: str, new_email: str) -> None:
        credential = await self._require(email)
        if await self._store.get(new_email) is not None:
            raise EmailInUse()
        await send_email_change_code(
            self._codes, self._mailer, credential.subject, new_email)

    async def confirm_email_change(self, email: str, code: str) -> str:
        credential = await self._require(email)
        taken = await self._codes.take(credential.subject, EMAIL_CHANGE, code)
        new_email = taken.new_email
        if new_email is None or not await self._codes.spend(taken):
            raise InvalidCode()
        await self._store.change_email(email, new_email)
        return new_email

    def _hours(self) -> int:
        return int(self._code_lifetime.total_seconds() // 3600)

    async def _send(self, to: str, subject: str, body: str) -> None:
        await self._mailer.send(Email(to=to, subject=subject, body=body))


async def send_email_change_code(
    codes: LifecycleCodes, mailer: Mailer, subject: str, new_email: str
) -> None:
    """Mails a code to `new_email` for the login `subject` (asked again within the minute
    for the same address, the code already sent stands)."""
    record = await codes.get(subject, EMAIL_CHANGE)
    issued = codes.issue(record or LocalCode(subject, EMAIL_CHANGE), new_email=new_email,
                         throttle=record is not None and record.new_email == new_email)
    if issued is None:
        return
    await codes.save(issued)
    hours = int(codes.lifetime.total_seconds() // 3600)
    await mailer.send(Email(to=new_email, subject=EMAIL_CHANGE_SUBJECT, body=(
        f"Your Atelier code to confirm this address is {issued.code}\n\n"
        f"It expires in {hours} hours. If you did not ask for it, ignore this message.\n")))
