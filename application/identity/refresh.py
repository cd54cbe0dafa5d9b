from application.auth.policy import AuthPolicy, Clock
from application.auth.tokens import Authenticated, TokenFactory
from application.ports.messaging import AuthCache
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import validate_device_id
from domain.sessions.model import InvalidRefreshToken
from domain.sessions.tokens import hash_token
from domain.shared.errors import ConcurrentUpdate

MAX_ATTEMPTS = 5


class RefreshSession:
    """Rotates a refresh token. Racing refreshes inside the reuse interval converge on one
    successor; a replay after it revokes the whole family."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: TokenFactory,
        policy: AuthPolicy,
        clock: Clock,
        auth_cache: AuthCache,
    ) -> None:
        self._uow_factory, self._tokens, self._policy = uow_factory, tokens, policy
        self._clock, self._auth_cache = clock, auth_cache

    async def __call__(self, refresh_token: str, device_id: str) -> Authenticated:
        device_id = validate_device_id(device_id)
        if not refresh_token or len(refresh_token) > 256:
            raise InvalidRefreshToken()
        digest = hash_token(refresh_token)
        for _ in range(MAX_ATTEMPTS):
            try:
                return await self._attempt(digest, refresh_token, device_id)
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate()

    async def _attempt(self, digest: str, presented: str, device_id: str) -> Authenticated:
        now = self._clock()
        async with self._uow_factory() as uow:
            family = await uow.sessions.get_by_token_hash(digest)
            if family is None:
                raise InvalidRefreshToken()
            generation, was_active = family.generation, family.active
            try:
                successor = family.refresh(presented, device_id, now, self._policy.reuse_interval)
            except InvalidRefreshToken:
                if was_active and not family.active:
                    await uow.sessions.update(family, generation)
                    await uow.commit()
                    await self._auth_cache.forget_user(family.user_id)
                raise
            user = await uow.users.get(family.user_id)
            if user is None:
                raise InvalidRefreshToken()
            user.ensure_active()
            if family.generation != generation:
                await uow.sessions.update(family, generation)
                if user.touch(now):
                    await uow.users.update(user)
                await uow.commit()
        return Authenticated(
            user, self._tokens.token_set(user, family.id, device_id, successor, now))
