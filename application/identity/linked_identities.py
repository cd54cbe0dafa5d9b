from application.auth.authenticate import Principal
from application.identity.id_token_binding import bind_id_token_to_device
from application.identity.provider_link_mirror import queue_link_mirror
from application.ports.clock import Clock
from application.ports.identities import IdTokenVerifier
from application.ports.images import Wakeup
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.errors import Conflict, NotFound
from domain.users.identities import (
    IdentityInUse,
    LinkedIdentity,
    MembersOnly,
    Provider,
    ProviderAlreadyLinked,
    check_unlink,
)


class ListIdentities:
    """The Apple and Google sign-ins linked to the signed-in user."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, principal: Principal) -> list[LinkedIdentity]:
        async with self._uow_factory() as uow:
            return await uow.identities.for_user(principal.user.id)


class LinkIdentity:
    """Links a provider to the signed-in member (after a password log-in, say), proven by
    a fresh ID token; one identity per provider, one user per identity. A member with a
    login at the identity provider (Cognito) gets the link there too, through the outbox."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, verifier: IdTokenVerifier, clock: Clock,
        mirror_relay: Wakeup,
    ) -> None:
        self._uow_factory, self._verifier, self._clock = uow_factory, verifier, clock
        self._mirror_relay = mirror_relay

    async def __call__(
        self, principal: Principal, provider: Provider, id_token: str, nonce: str | None
    ) -> LinkedIdentity:
        if principal.user.is_guest:
            raise MembersOnly()
        claims = await self._verifier.verify(provider, id_token, nonce)
        user_id = principal.user.id
        async with self._uow_factory() as uow:
            await uow.users.lock(user_id)
            await bind_id_token_to_device(uow, claims, id_token, principal.device_id)
            held = await uow.identities.get(provider, claims.subject)
            if held is not None:
                if held.user_id != user_id:
                    raise IdentityInUse()
                await uow.commit()
                return held
            if any(i.provider is provider for i in await uow.identities.for_user(user_id)):
                raise ProviderAlreadyLinked()
            linked = LinkedIdentity(user_id, provider, claims.subject, claims.email,
                                    self._clock())
            try:
                await uow.identities.add(linked)
                if principal.user.has_password:
                    await queue_link_mirror(uow, linked, linked.created_at)
                await uow.commit()
            except Conflict:
                raise IdentityInUse() from None
        self._mirror_relay.wake()
        return linked


class UnlinkIdentity:
    """Unlinks a provider, never the last way in (a password or another provider); at the
    identity provider too, through the outbox."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, mirror_relay: Wakeup
    ) -> None:
        self._uow_factory, self._clock, self._mirror_relay = uow_factory, clock, mirror_relay

    async def __call__(self, principal: Principal, provider: Provider) -> None:
        user_id = principal.user.id
        async with self._uow_factory() as uow:
            # Two unlinks at once must not both see "another way is left".
            await uow.users.lock(user_id)
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user not found")
            linked = await uow.identities.for_user(user_id)
            check_unlink(provider, linked, user.has_password)
            await uow.identities.delete(user_id, provider)
            if user.has_password:
                for identity in linked:
                    if identity.provider is provider:
                        await queue_link_mirror(uow, identity, self._clock())
            await uow.commit()
        self._mirror_relay.wake()
