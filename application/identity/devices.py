from application.auth.sessions import end_device_sessions
from application.ports.clock import Clock
from application.ports.messaging import SessionEvents
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import Device, validate_device_id
from domain.shared.errors import NotFound


class UnknownDevice(NotFound):
    """No such device on this account."""

    code = "device_not_found"


class ListDevices:
    """The phones this account is signed in on."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: str) -> list[Device]:
        async with self._uow_factory() as uow:
            return [d for d in await uow.devices.for_user(user_id) if d.active]


class RevokeDevice:
    """Signs a device out: its sessions end, its tokens stop working, its sockets close."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, session_events: SessionEvents
    ) -> None:
        self._uow_factory, self._clock, self._session_events = uow_factory, clock, session_events

    async def __call__(self, user_id: str, device_id: str) -> None:
        device_id, now = validate_device_id(device_id), self._clock()
        async with self._uow_factory() as uow:
            device = await uow.devices.get(user_id, device_id)
            if device is None or not device.active:
                raise UnknownDevice()
            device.revoke(now)
            await uow.devices.update(device)
            await end_device_sessions(uow, user_id, device_id, now, "device_revoked")
            await uow.commit()
        await self._session_events.sessions_ended(user_id, device_id)

