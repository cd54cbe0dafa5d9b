from datetime import datetime

from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.auth.sessions import start_session
from application.auth.tokens import Authenticated, TokenFactory
from application.identity.id_token_binding import bind_id_token_to_device
from application.ports.clock import Clock
from application.ports.identities import IdTokenVerifier
from application.ports.messaging import AuthCache
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.devices.model import Platform, parse_platform, validate_device_id
from domain.shared.errors import Conflict, NotFound
from domain.shared.ids import new_id
from domain.users.identities import LinkedIdentity, Provider, ProviderClaims
from domain.users.model import AlreadyMember, EmailInUse, User


class SignInWithProvider:
    """An Apple or Google ID token -> tokens bound to this device. The first sign-in makes a
    member (or, with a guest's bearer, upgrades that guest in place); later ones find it."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        verifier: IdTokenVerifier,
        tokens: TokenFactory,
        policy: AuthPolicy,
        clock: Clock,
        auth_cache: AuthCache,
    ) -> None:
        self._uow_factory, self._verifier, self._tokens = uow_factory, verifier, tokens
        self._policy, self._clock, self._auth_cache = policy, clock, auth_cache

    async def __call__(
        self, provider: Provider, id_token: str, nonce: str | None, device_id: str,
        platform: str, guest: Principal | None = None,
    ) -> Authenticated:
        device_id, platform_ = validate_device_id(device_id), parse_platform(platform)
        if guest is not None and not guest.user.is_guest:
            raise AlreadyMember()
        claims = await self._verifier.verify(provider, id_token, nonce)
        try:
            result = await self._sign_in(
                claims, id_token, device_id, platform_, guest, create=True)
        except Conflict as clash:
            # A concurrent first sign-in of the same person won the unique (provider,
            # subject): sign in as the user it made. Anything else was a real conflict.
            found = await self._sign_in(
                claims, id_token, device_id, platform_, None, create=False)
            if found is None:
                raise clash from None
            result = found
        if result is None:  # never: a sign-in that may create always ends signed in
            raise NotFound("no user for this sign-in")
        if guest is not None and result.user.id == guest.user.id:
            await self._auth_cache.forget_user(guest.user.id)
        return result

    async def _sign_in(
        self, claims: ProviderClaims, id_token: str, device_id: str, platform: Platform,
        guest: Principal | None, *, create: bool,
    ) -> Authenticated | None:
        now = self._clock()
        async with self._uow_factory() as uow:
            await bind_id_token_to_device(uow, claims, id_token, device_id)
            linked = await uow.identities.get(claims.provider, claims.subject)
            if linked is not None:
                user = await uow.users.get(linked.user_id)
                if user is None:
                    raise NotFound("the linked user no longer exists")
                if user.touch(now):
                    await uow.users.update(user)
            elif create:
                user = await self._new_member(uow, claims, guest, now)
            else:
                return None
            user.ensure_active()
            tokens = await start_session(
                uow, self._tokens, self._policy, user, device_id, platform, now)
            await uow.commit()
        return Authenticated(user, tokens)

    @staticmethod
    async def _new_member(
        uow: UnitOfWork, claims: ProviderClaims, guest: Principal | None, now: datetime
    ) -> User:
        """A new member, or the calling guest upgraded in place, linked to the identity. An
        address someone here already holds is theirs: they sign in their way and link."""
        if claims.email and await uow.users.get_by_email(claims.email) is not None:
            raise EmailInUse()
        if guest is None:
            user = User.new_member_by_identity(new_id(), claims.email, now)
            await uow.users.add(user)
        else:
            found = await uow.users.get(guest.user.id)
            if found is None:
                raise NotFound("the guest no longer exists")
            user = found
            user.upgrade_by_identity(claims.email)
            user.touch(now)
            await uow.users.update(user)
        await uow.identities.add(
            LinkedIdentity(user.id, claims.provider, claims.subject, claims.email, now))
        return user
