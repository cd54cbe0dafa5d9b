"""The public deletion page (what Google Play asks for): a member proves the address with
an e-mailed 6-digit code, then confirms; the account goes as with DELETE /me."""

import asyncio
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from application.identity.delete_account import DeletedVia, EraseAccount
from application.ports.clock import Clock
from application.ports.deletion_codes import DeletionCode, DeletionCodeStore
from application.ports.identity import CodeExpired, InvalidCode
from application.ports.limits import RateLimiter
from application.ports.messaging import Email, Mailer
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.errors import TooManyRequests
from domain.users.model import normalize_email

CODE_LIFETIME = timedelta(hours=1)
MAX_ATTEMPTS = 5
PER_ADDRESS, PER_ADDRESS_SECONDS = 3, 3600.0
PER_IP, PER_IP_SECONDS = 10, 60.0
SUBJECT = "Your Atelier account deletion code"

log = logging.getLogger(__name__)


def _code_hash(user_id: str, code: str) -> str:
    return hashlib.sha256(f"deletion:{user_id}:{code}".encode()).hexdigest()


class RequestDeletionCode:
    """E-mails a code to a member's address; the same answer, the same limits, and as quick,
    for any address, so the page tells nobody whether an address has an account: the
    lookup, the code and the mail run after the answer."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, codes: DeletionCodeStore, mailer: Mailer,
        limiter: RateLimiter, clock: Clock,
    ) -> None:
        self._uow_factory, self._codes, self._mailer = uow_factory, codes, mailer
        self._limiter, self._clock = limiter, clock
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, email: str, client_ip: str) -> None:
        email = normalize_email(email)
        for key, limit, period in ((f"deletion-page:ip:{client_ip}", PER_IP, PER_IP_SECONDS),
                                   (f"deletion-page:email:{email}", PER_ADDRESS,
                                    PER_ADDRESS_SECONDS)):
            decision = await self._limiter.hit(key, limit, period)
            if not decision.allowed:
                raise TooManyRequests(decision.retry_after)
        task = asyncio.create_task(self._send_if_member(email))
        self._running.add(task)  # held until done, so it is not collected midway
        task.add_done_callback(self._running.discard)

    async def _send_if_member(self, email: str) -> None:
        try:
            await self._send(email)
        except Exception:
            log.exception("could not send an account deletion code")

    async def _send(self, email: str) -> None:
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(email)
        if user is None or user.is_guest:
            return
        code, now = f"{secrets.randbelow(10**6):06d}", self._clock()
        await self._codes.save(DeletionCode(
            user.id, _code_hash(user.id, code), now, now + CODE_LIFETIME))
        await self._mailer.send(Email(to=email, subject=SUBJECT, body=(
            f"Your code to delete your Atelier account is {code}\n\n"
            "It expires in one hour. Entering it on the deletion page deletes your account, "
            "your images and your devices for good. If you did not ask for this, ignore this "
            "message: nothing happens without the code.\n")))


class ConfirmDeletionByCode:
    """Deletes the member's account if the code is right: one attempt is counted before
    comparing (five at most, however many race), and a right code works once."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, codes: DeletionCodeStore, erase: EraseAccount,
        clock: Clock,
    ) -> None:
        self._uow_factory, self._codes, self._erase, self._clock = (
            uow_factory, codes, erase, clock)

    async def __call__(self, email: str, code: str) -> None:
        email = normalize_email(email)
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(email)
        if user is None:
            raise CodeExpired()
        taken = await self._codes.take_attempt(user.id, self._clock(), MAX_ATTEMPTS)
        if taken is None:
            raise CodeExpired()
        if not hmac.compare_digest(taken.code_hash, _code_hash(user.id, code.strip())):
            raise InvalidCode()
        if not await self._codes.spend(user.id, taken.code_hash):
            raise CodeExpired()  # another request used it first
        await self._erase(user.id, DeletedVia.WEB_PAGE)
