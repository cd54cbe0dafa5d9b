from dataclasses import dataclass, replace
from datetime import datetime

from application.admin.acting import Acting
from application.auth.sessions import end_sessions
from application.ports.admin import UserCursor, UserQuery
from application.ports.clock import Clock
from application.ports.identity import IdentityProvider
from application.ports.messaging import SessionEvents
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import Device
from domain.sessions.model import RefreshFamily
from domain.shared.errors import NotFound
from domain.users.model import User


class UnknownUser(NotFound):
    """No such user."""

    code = "user_not_found"


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    next: UserCursor | None


@dataclass(frozen=True)
class UserDetails:
    user: User
    devices: list[Device]
    image_count: int
    live_sessions: int
    sessions: tuple[RefreshFamily, ...] = ()
    """The live ones: device, signed in when, last refreshed when, expiring when."""


class SearchUsers:
    """Users matching an admin's query, newest first, a page at a time."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, query: UserQuery, limit: int, after: UserCursor | None) -> UserPage:
        if query.email:
            query = replace(query, email=query.email.strip().lower())
        async with self._uow_factory() as uow:
            found = await uow.users.search(query, limit + 1, after)
        page = found[:limit]
        more = len(found) > limit and page
        return UserPage(page, (page[-1].created_at, page[-1].id) if more else None)


class ShowUser:
    """One user with every device (revoked ones too), image count and live sessions."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory, self._clock = uow_factory, clock

    async def __call__(self, user_id: str) -> UserDetails:
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise UnknownUser()
            devices = await uow.devices.for_user(user_id)
            images = await uow.images.count_for_user(user_id)
            sessions = await uow.sessions.live_for_user(user_id, self._clock())
        return UserDetails(user, devices, images, len(sessions), tuple(sessions))


class SetUserStatus:
    """Disable (every session ends at once, sockets close, the login is blocked) or enable
    a user."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        identity: IdentityProvider,
        clock: Clock,
        session_events: SessionEvents,
        *,
        enable: bool,
    ) -> None:
        self._uow_factory, self._identity, self._clock = uow_factory, identity, clock
        self._session_events, self._enable = session_events, enable

    async def __call__(self, acting: Acting, user_id: str) -> User:
        now: datetime = self._clock()
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise UnknownUser()
            ended = 0
            if self._enable:
                user.enable()
            else:
                user.disable()
                ended = await end_sessions(uow, user.id, now, "user_disabled")
            await uow.users.update(user)
            action = "user.enabled" if self._enable else "user.disabled"
            await uow.audit.append(acting.entry(action, "user", user.id, now,
                                                sessions_ended=ended))
            await uow.commit()
        if not self._enable:
            await self._session_events.sessions_ended(user.id)
        if user.email is not None and not user.is_guest:
            try:
                if self._enable:
                    await self._identity.enable(user.email)
                else:
                    await self._identity.disable(user.email)
            except NotFound:
                pass  # adopted or never registered at the provider: nothing to block there
        return user
