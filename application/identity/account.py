"""The account lifecycle a member drives: reset a forgotten password, change the password,
change the e-mail address. The identity provider owns passwords and codes; these use cases
end sessions, keep the user row in step and hold the lock-out rules."""

import asyncio
import logging

from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.auth.sessions import end_sessions
from application.identity.password_check import clear_login_attempts, take_login_attempt
from application.ports.clock import Clock
from application.ports.identity import IdentityProvider, InvalidCredentials
from application.ports.messaging import AuthCache, Email, Mailer, SessionEvents
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.errors import Forbidden, InvalidInput, NotFound
from domain.users.lockout import EVERY_SOURCE
from domain.users.model import EmailInUse, User, check_password, normalize_email

log = logging.getLogger("atelier.account")

EMAIL_CHANGED_SUBJECT = "Your Atelier e-mail address was changed"


class WrongPassword(Forbidden):
    """The current password is wrong."""

    code = "wrong_password"


class NotAMember(Forbidden):
    """Only an account with an e-mail address and a password can do this."""

    code = "not_a_member"


class SameEmail(InvalidInput):
    """That is already this account's address."""

    code = "same_email"


class RequestPasswordReset:
    """Asks the identity provider to mail a reset code. The answer is the same, and as
    quick, for any address: the provider's work (a lookup, a mail) runs after the answer."""

    def __init__(self, identity: IdentityProvider) -> None:
        self._identity = identity
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, email: str) -> None:
        task = asyncio.create_task(self._request(normalize_email(email)))
        self._running.add(task)  # held until done, so it is not collected midway
        task.add_done_callback(self._running.discard)

    async def _request(self, email: str) -> None:
        try:
            await self._identity.request_password_reset(email)
        except Exception:
            log.exception("could not send a password reset code")


class ConfirmPasswordReset:
    """The mailed code and a new password: the password is set, every session of the user
    ends on every node, and the login lock-out for the address is lifted."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        identity: IdentityProvider,
        clock: Clock,
        session_events: SessionEvents,
    ) -> None:
        self._uow_factory, self._identity = uow_factory, identity
        self._clock, self._session_events = clock, session_events

    async def __call__(self, email: str, code: str, password: str, client_ip: str) -> None:
        email, password = normalize_email(email), check_password(password)
        subject = await self._identity.confirm_password_reset(email, code.strip(), password)
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_external_id(subject) or await uow.users.get_by_email(
                email)
            if user is not None:
                await end_sessions(uow, user.id, self._clock(), "password_reset")
            await uow.login_attempts.delete(email, EVERY_SOURCE)
            await uow.login_attempts.delete(email, client_ip)
            await uow.commit()
        if user is not None:
            await self._session_events.sessions_ended(user.id)


def _member_email(principal: Principal) -> str:
    if principal.user.is_guest or principal.user.email is None:
        raise NotAMember()
    return principal.user.email


async def _check_current_password(
    uow_factory: UnitOfWorkFactory, identity: IdentityProvider, policy: AuthPolicy,
    clock: Clock, email: str, password: str, client_ip: str,
) -> None:
    """The current password, checked behind the login lock-out (a wrong one counts as a
    failed log-in); WrongPassword rather than a 401, which would read as a dead session."""
    await take_login_attempt(uow_factory, policy.lockout, clock, email, client_ip)
    try:
        await identity.authenticate(email, password)
    except InvalidCredentials:
        raise WrongPassword() from None
    await clear_login_attempts(uow_factory, email, client_ip)


class ChangePassword:
    """The current password and a new one: every other session of the user ends; the one
    that asked stays signed in."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        identity: IdentityProvider,
        policy: AuthPolicy,
        clock: Clock,
        session_events: SessionEvents,
    ) -> None:
        self._uow_factory, self._identity, self._policy = uow_factory, identity, policy
        self._clock, self._session_events = clock, session_events

    async def __call__(
        self, principal: Principal, current_password: str, password: str, client_ip: str
    ) -> None:
        email, password = _member_email(principal), check_password(password)
        await take_login_attempt(
            self._uow_factory, self._policy.lockout, self._clock, email, client_ip)
        try:
            await self._identity.change_password(email, current_password, password)
        except InvalidCredentials:
            raise WrongPassword() from None
        await clear_login_attempts(self._uow_factory, email, client_ip)
        now = self._clock()
        async with self._uow_factory() as uow:
            others = [f for f in await uow.sessions.live_for_user(principal.user.id, now)
                      if f.id != principal.session_id]
            await end_sessions(uow, principal.user.id, now, "password_changed",
                               keep=principal.session_id)
            await uow.commit()
        # Sockets close device by device, so this device's own socket stays open.
        for device_id in {f.device_id for f in others if f.device_id != principal.device_id}:
            await self._session_events.sessions_ended(principal.user.id, device_id)


class RequestEmailChange:
    """The new address and the current password: the identity provider mails a code to
    the new address; nothing changes until it is confirmed."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        identity: IdentityProvider,
        policy: AuthPolicy,
        clock: Clock,
    ) -> None:
        self._uow_factory, self._identity = uow_factory, identity
        self._policy, self._clock = policy, clock

    async def __call__(
        self, principal: Principal, new_email: str, password: str, client_ip: str
    ) -> None:
        email, new_email = _member_email(principal), normalize_email(new_email)
        if new_email == email:
            raise SameEmail()
        await _check_current_password(
            self._uow_factory, self._identity, self._policy, self._clock, email, password,
            client_ip)
        async with self._uow_factory() as uow:
            if await uow.users.get_by_email(new_email) is not None:
                raise EmailInUse()
        await self._identity.request_email_change(email, new_email)


class ConfirmEmailChange:
    """The code mailed to the new address: the account moves to it, and the old address is
    told (a notice, no code), so a hijack does not go unnoticed."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        identity: IdentityProvider,
        mailer: Mailer,
        auth_cache: AuthCache,
    ) -> None:
        self._uow_factory, self._identity = uow_factory, identity
        self._mailer, self._auth_cache = mailer, auth_cache

    async def __call__(self, principal: Principal, code: str) -> User:
        old_email = _member_email(principal)
        new_email = await self._identity.confirm_email_change(old_email, code.strip())
        async with self._uow_factory() as uow:
            user = await uow.users.get(principal.user.id)
            if user is None:
                raise NotFound("account not found")
            user.email, user.email_confirmed = new_email, True
            await uow.users.update(user)
            await uow.commit()
        await self._auth_cache.forget_user(user.id)
        try:
            await self._mailer.send(Email(
                to=old_email,
                subject=EMAIL_CHANGED_SUBJECT,
                body=(
                    f"The e-mail address of your Atelier account was changed to {new_email}.\n\n"
                    "If you did not do this, reset your password from the app at once and "
                    "contact support.\n"
                ),
            ))
        except Exception:
            log.exception("could not tell the old address about an e-mail change")
        return user
