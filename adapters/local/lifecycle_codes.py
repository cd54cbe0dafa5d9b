"""Password-reset and e-mail-change codes kept beside a login: hashed, 24 h, a few
attempts taken atomically before any comparison, and per-address sending limits. The
local identity provider keeps its reset and e-mail codes here; the Cognito adapter keeps
its e-mail-change codes here (Cognito can check those only with the user's own token)."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from adapters.local.credentials import LocalCode
from application.ports.clock import Clock
from application.ports.identity import CodeExpired, InvalidCode

RESEND_INTERVAL = timedelta(minutes=1)
SEND_WINDOW, SENDS_PER_WINDOW = timedelta(days=1), 5


class CodeStore(Protocol):
    """The code half of a CredentialStore (adapters/local/credentials.py)."""

    async def get_code(self, subject: str, purpose: str) -> LocalCode | None: ...
    async def save_code(self, code: LocalCode) -> None: ...
    async def take_lifecycle_attempt(
        self, subject: str, purpose: str, now: datetime, max_attempts: int
    ) -> LocalCode | None: ...
    async def spend_code(self, subject: str, purpose: str, code_hash: str) -> bool: ...


def code_hash(subject: str, code: str) -> str:
    return hashlib.sha256(f"{subject}:{code}".encode()).hexdigest()


class Issued(NamedTuple):
    code: str
    record: LocalCode


class LifecycleCodes:
    def __init__(
        self, store: CodeStore, clock: Clock, *,
        lifetime: timedelta = timedelta(hours=24), max_attempts: int = 5,
    ) -> None:
        self._store, self._clock = store, clock
        self.lifetime, self._max_attempts = lifetime, max_attempts

    async def get(self, subject: str, purpose: str) -> LocalCode | None:
        return await self._store.get_code(subject, purpose)

    def issue(
        self, record: LocalCode, *, new_email: str | None = None, throttle: bool = True
    ) -> Issued | None:
        """A new code written over `record` (not saved yet), or None when the address's
        sending limits (one a minute, five a day) say no."""
        now = self._clock()
        if throttle and record.sent_at is not None and now - record.sent_at < RESEND_INTERVAL:
            return None
        if record.window_started_at is None or now - record.window_started_at >= SEND_WINDOW:
            record.window_started_at, record.sent_in_window = now, 0
        if record.sent_in_window >= SENDS_PER_WINDOW:
            return None
        code = f"{secrets.randbelow(10**6):06d}"
        record.code_hash = code_hash(record.subject, code)
        record.new_email, record.expires_at = new_email, now + self.lifetime
        record.attempts, record.sent_at = 0, now
        record.sent_in_window += 1
        return Issued(code, record)

    async def save(self, issued: Issued) -> None:
        await self._store.save_code(issued.record)

    async def take(self, subject: str, purpose: str, code: str) -> LocalCode:
        """The live code once `code` matched it (the attempt counted first, atomically);
        InvalidCode, or CodeExpired once it is past its time or out of attempts."""
        taken = await self._store.take_lifecycle_attempt(
            subject, purpose, self._clock(), self._max_attempts)
        if taken is None or taken.code_hash is None:
            record = await self._store.get_code(subject, purpose)
            if record is not None and record.code_hash is not None:
                raise CodeExpired()
            raise InvalidCode()
        if not hmac.compare_digest(taken.code_hash, code_hash(subject, code.strip())):
            raise InvalidCode()
        return taken

    async def spend(self, taken: LocalCode) -> bool:
        """Single use: False when another request spent it, or a new one replaced it."""
        if taken.code_hash is None:
            return False
        return await self._store.spend_code(taken.subject, taken.purpose, taken.code_hash)
