"""What Cognito's Lambda triggers do (and the local identity provider's hooks, in-process)."""

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.ids import new_id
from domain.users.model import EmailInUse, User, normalize_email
from domain.users.signup import SignUpPolicy


class ScreenSignUp:
    """Pre sign-up: refuses an invalid address or a blocked (e.g. disposable) domain."""

    def __init__(self, policy: SignUpPolicy) -> None:
        self._policy = policy

    async def __call__(self, email: str) -> None:
        self._policy.check(email)


class RecordConfirmedSignUp:
    """Post confirmation: the user row for this provider subject exists and is confirmed.
    Idempotent: the same event twice leaves one user."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory, self._clock = uow_factory, clock

    async def __call__(self, email: str, subject: str) -> User:
        email = normalize_email(email)
        for attempt in range(3):
            try:
                return await self._upsert(email, subject)
            except EmailInUse:
                # Another writer (the API's register, a retried trigger) inserted it first.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _upsert(self, email: str, subject: str) -> User:
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_external_id(subject)
            # The address is confirmed: its row is this login's, as on log-in (see Login).
            user = user or await uow.users.get_by_email(email)
            if user is None:
                user = User.new_member(new_id(), email, subject, self._clock())
                user.confirm_email()
                await uow.users.add(user)
            else:
                user.external_id = subject
                user.confirm_email()
                await uow.users.update(user)
            await uow.commit()
        return user
