"""The password check behind the login lock-out, shared by log-in and merge-guest."""

from application.auth.policy import AuthPolicy
from application.ports.clock import Clock
from application.ports.identity import IdentityProvider, InvalidCredentials
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.users.lockout import LoginAttempts


async def check_password_login(
    uow_factory: UnitOfWorkFactory,
    identity: IdentityProvider,
    policy: AuthPolicy,
    clock: Clock,
    email: str,
    password: str,
) -> str:
    """The identity provider's subject for these credentials, behind the login lock-out."""
    async with uow_factory() as uow:
        attempts = await uow.login_attempts.get(email) or LoginAttempts(email)
    attempts.check(clock())
    try:
        subject = await identity.authenticate(email, password)
    except InvalidCredentials:
        async with uow_factory() as uow:
            attempts = await uow.login_attempts.get(email) or LoginAttempts(email)
            attempts.failed(clock(), policy.lockout)
            await uow.login_attempts.save(attempts)
            await uow.commit()
        raise
    if attempts.failures:
        async with uow_factory() as uow:
            attempts.succeeded()
            await uow.login_attempts.save(attempts)
            await uow.commit()
    return subject
