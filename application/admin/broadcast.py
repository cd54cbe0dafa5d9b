import re
from typing import Any

from application.admin.acting import Acting
from application.ports.clock import Clock
from application.ports.messaging import RealtimeBus
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.errors import InvalidInput

# What a phone may subscribe to; `internal:*` channels are the servers' own.
_CHANNEL = re.compile(r"^(broadcast|user:[A-Za-z0-9_-]{1,64})$")


class InvalidChannel(InvalidInput):
    """The channel is `broadcast` or `user:{id}`."""

    code = "invalid_channel"


class Broadcast:
    """Publishes a message on a realtime channel; every gateway delivers it."""

    def __init__(self, bus: RealtimeBus, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._bus, self._uow_factory, self._clock = bus, uow_factory, clock

    async def __call__(self, acting: Acting, channel: str, data: dict[str, Any]) -> None:
        if not _CHANNEL.match(channel):
            raise InvalidChannel()
        await self._bus.publish(channel, data)
        async with self._uow_factory() as uow:
            await uow.audit.append(acting.entry(
                "realtime.broadcast", "channel", channel, self._clock(), data=data))
            await uow.commit()
