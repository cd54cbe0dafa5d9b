"""The password check behind the login lock-out, shared by log-in and merge-guest (and, with
its own counter key, by local admins)."""

from application.auth.policy import AuthPolicy
from application.ports.clock import Clock
from application.ports.identity import EmailNotConfirmed, IdentityProvider, InvalidCredentials
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.users.lockout import EVERY_SOURCE, LockoutPolicy, take_attempt
from domain.users.model import UserDisabled


async def take_login_attempt(
    uow_factory: UnitOfWorkFactory, policy: LockoutPolicy, clock: Clock, key: str, source: str
) -> None:
    """Counts one password check for `key` from `source` (and for `key` from anywhere)
    before it runs, in one transaction holding both counts; raises AccountLocked instead
    when either is locked. So however many requests race, at most the threshold check."""
    async with uow_factory() as uow:
        from_source = await uow.login_attempts.get_for_update(key, source)
        account = await uow.login_attempts.get_for_update(key, EVERY_SOURCE)
        take_attempt(from_source, account, clock(), policy)
        await uow.login_attempts.save(from_source)
        await uow.login_attempts.save(account)
        await uow.commit()


async def clear_login_attempts(uow_factory: UnitOfWorkFactory, key: str, source: str) -> None:
    """The right password: failures in a row start again, from this source and overall."""
    async with uow_factory() as uow:
        await uow.login_attempts.delete(key, source)
        await uow.login_attempts.delete(key, EVERY_SOURCE)
        await uow.commit()


async def check_password_login(
    uow_factory: UnitOfWorkFactory,
    identity: IdentityProvider,
    policy: AuthPolicy,
    clock: Clock,
    email: str,
    password: str,
    client_ip: str,
) -> str:
    """The identity provider's subject for these credentials, behind the login lock-out."""
    await take_login_attempt(uow_factory, policy.lockout, clock, email, client_ip)
    try:
        subject = await identity.authenticate(email, password)
    except InvalidCredentials:
        raise  # already counted
    except (EmailNotConfirmed, UserDisabled):
        await clear_login_attempts(uow_factory, email, client_ip)  # the password was right
        raise
    await clear_login_attempts(uow_factory, email, client_ip)
    return subject
