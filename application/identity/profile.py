from application.auth.authenticate import Principal
from application.ports.messaging import AuthCache
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.errors import NotFound
from domain.users.model import User


class UpdateProfile:
    """Changes the display name and preferences such as `notify_by_email`."""

    def __init__(self, uow_factory: UnitOfWorkFactory, auth_cache: AuthCache) -> None:
        self._uow_factory, self._auth_cache = uow_factory, auth_cache

    async def __call__(
        self, principal: Principal, display_name: str | None, notify_by_email: bool | None
    ) -> User:
        async with self._uow_factory() as uow:
            user = await uow.users.get(principal.user.id)
            if user is None:
                raise NotFound()
            user.update_profile(display_name, notify_by_email)
            await uow.users.update(user)
            await uow.commit()
        await self._auth_cache.forget_user(user.id)
        return user
