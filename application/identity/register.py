from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.auth.sessions import start_session
from application.auth.tokens import Authenticated, TokenFactory
from application.ports.clock import Clock
from application.ports.identity import IdentityProvider
from application.ports.messaging import AuthCache
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import parse_platform, validate_device_id
from domain.shared.errors import NotFound
from domain.shared.ids import new_id
from domain.users.model import AlreadyMember, EmailInUse, User, check_password, normalize_email


class Register:
    """Registers a member; with a guest's token, upgrades that guest in place (same id)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        identity: IdentityProvider,
        tokens: TokenFactory,
        policy: AuthPolicy,
        clock: Clock,
        auth_cache: AuthCache,
    ) -> None:
        self._uow_factory, self._identity, self._tokens = uow_factory, identity, tokens
        self._policy, self._clock, self._auth_cache = policy, clock, auth_cache

    async def __call__(
        self, email: str, password: str, device_id: str, platform: str,
        guest: Principal | None = None,
    ) -> Authenticated:
        email, password = normalize_email(email), check_password(password)
        device_id, platform_ = validate_device_id(device_id), parse_platform(platform)
        if guest is not None and not guest.user.is_guest:
            raise AlreadyMember()
        async with self._uow_factory() as uow:
            if await uow.users.get_by_email(email) is not None:
                raise EmailInUse()
        subject = await self._identity.register(email, password)
        now = self._clock()
        async with self._uow_factory() as uow:
            if guest is not None:
                user = await uow.users.get(guest.user.id)
                if user is None:
                    raise NotFound("the guest no longer exists")
                user.upgrade(email, subject)
                user.touch(now)
                await uow.users.update(user)
            else:
                user = User.new_member(new_id(), email, subject, now)
                await uow.users.add(user)
            tokens = await start_session(
                uow, self._tokens, self._policy, user, device_id, platform_, now)
            await uow.commit()
        if guest is not None:
            await self._auth_cache.forget_user(user.id)
        return Authenticated(user, tokens)
