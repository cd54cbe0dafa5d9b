from application.admin.acting import Acting
from application.admin.users import UnknownUser
from application.auth.sessions import end_device_sessions
from application.identity.devices import UnknownDevice
from application.ports.clock import Clock
from application.ports.messaging import SessionEvents
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import Device


class ListUserDevices:
    """Every device a user has been bound to, revoked ones included."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: str) -> list[Device]:
        async with self._uow_factory() as uow:
            if await uow.users.get(user_id) is None:
                raise UnknownUser()
            return await uow.devices.for_user(user_id)


class RevokeUserDevice:
    """Signs one of a user's devices out: its sessions end, its tokens stop working, its
    sockets close on every gateway."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, session_events: SessionEvents
    ) -> None:
        self._uow_factory, self._clock, self._session_events = uow_factory, clock, session_events

    async def __call__(self, acting: Acting, user_id: str, device_id: str) -> Device:
        now = self._clock()
        async with self._uow_factory() as uow:
            device = await uow.devices.get(user_id, device_id)
            if device is None or not device.active:
                raise UnknownDevice()
            device.revoke(now)
            await uow.devices.update(device)
            ended = await end_device_sessions(uow, user_id, device_id, now, "device_revoked")
            await uow.audit.append(acting.entry(
                "device.revoked", "device", f"{user_id}/{device_id}", now,
                user_id=user_id, sessions_ended=ended))
            await uow.commit()
        await self._session_events.sessions_ended(user_id, device_id)
        return device
