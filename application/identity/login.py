from application.auth.policy import AuthPolicy
from application.auth.sessions import start_session
from application.auth.tokens import Authenticated, TokenFactory
from application.identity.password_check import check_password_login
from application.ports.clock import Clock
from application.ports.identity import IdentityProvider
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import parse_platform, validate_device_id
from domain.shared.ids import new_id
from domain.users.model import User, normalize_email


class Login:
    """E-mail + password -> tokens bound to this device (a new session family)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        identity: IdentityProvider,
        tokens: TokenFactory,
        policy: AuthPolicy,
        clock: Clock,
    ) -> None:
        self._uow_factory, self._identity, self._tokens = uow_factory, identity, tokens
        self._policy, self._clock = policy, clock

    async def __call__(
        self, email: str, password: str, device_id: str, platform: str, client_ip: str
    ) -> Authenticated:
        """`client_ip` is where the request came from: failures count per address and
        source, so a stranger's guesses lock out the stranger, not the owner everywhere."""
        email = normalize_email(email)
        device_id, platform_ = validate_device_id(device_id), parse_platform(platform)
        subject = await check_password_login(
            self._uow_factory, self._identity, self._policy, self._clock, email, password,
            client_ip)
        now = self._clock()
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_external_id(subject)
            user = user or await uow.users.get_by_email(email)
            if user is None:
                # Signed up at the provider but never seen here (a missed trigger): adopt it.
                user = User.new_member(new_id(), email, subject, now)
                user.confirm_email()
                await uow.users.add(user)
            user.ensure_active()
            user.touch(now)
            await uow.users.update(user)
            tokens = await start_session(
                uow, self._tokens, self._policy, user, device_id, platform_, now)
            await uow.commit()
        return Authenticated(user, tokens)
