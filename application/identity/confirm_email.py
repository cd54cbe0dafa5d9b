from application.ports.identity import IdentityProvider
from application.ports.messaging import AuthCache
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.users.model import User, normalize_email


class ConfirmEmail:
    """Checks the 6-digit code the identity provider sent, and marks the address confirmed."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, identity: IdentityProvider, auth_cache: AuthCache
    ) -> None:
        self._uow_factory, self._identity, self._auth_cache = uow_factory, identity, auth_cache

    async def __call__(self, email: str, code: str) -> User | None:
        email = normalize_email(email)
        await self._identity.confirm(email, code.strip())
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(email)
            if user is not None:
                user.confirm_email()
                await uow.users.update(user)
                await uow.commit()
        if user is not None:
            await self._auth_cache.forget_user(user.id)
        return user
