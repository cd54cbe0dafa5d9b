from application.auth.policy import AuthPolicy
from application.auth.sessions import start_session
from application.auth.tokens import Authenticated, TokenFactory
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import parse_platform, validate_device_id
from domain.shared.ids import new_id
from domain.users.model import User


class CreateGuest:
    """A guest account bound to this device, signed in at once."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, tokens: TokenFactory, policy: AuthPolicy, clock: Clock
    ) -> None:
        self._uow_factory, self._tokens, self._policy, self._clock = (
            uow_factory, tokens, policy, clock)

    async def __call__(self, device_id: str, platform: str) -> Authenticated:
        device_id, platform_ = validate_device_id(device_id), parse_platform(platform)
        now = self._clock()
        async with self._uow_factory() as uow:
            user = User.new_guest(new_id(), now)
            await uow.users.add(user)
            tokens = await start_session(
                uow, self._tokens, self._policy, user, device_id, platform_, now)
            await uow.commit()
        return Authenticated(user, tokens)
