from application.auth.authenticate import Principal
from application.ports.clock import Clock
from application.ports.messaging import SessionEvents
from application.ports.unit_of_work import UnitOfWorkFactory


class Logout:
    """Ends this device's session: its refresh and access tokens stop working and its
    realtime sockets close."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, session_events: SessionEvents
    ) -> None:
        self._uow_factory, self._clock, self._session_events = uow_factory, clock, session_events

    async def __call__(self, principal: Principal) -> None:
        async with self._uow_factory() as uow:
            family = await uow.sessions.get(principal.session_id)
            if family is not None and family.active:
                family.revoke(self._clock(), "logout")
                await uow.sessions.update(family, family.generation)
                await uow.commit()
        await self._session_events.sessions_ended(principal.user.id, principal.device_id)
