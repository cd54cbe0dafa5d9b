"""POST /me/exports and GET /me/exports/{id}: ask for a copy of one's data, then fetch it."""

from dataclasses import dataclass

from application.images.policy import ImagePolicy
from application.ports.clock import Clock
from application.ports.images import ObjectStore, OutboxMessage, Wakeup
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.exports.model import DataExport, ExportStatus
from domain.shared.errors import NotFound
from domain.shared.ids import new_id

EXPORT_REQUESTED = "export.requested"


class ExportNotFound(NotFound):
    """No such export on this account."""

    code = "export_not_found"


class ExportExpired(NotFound):
    """This export was kept its week and is gone; ask for a new one."""

    code = "export_expired"


@dataclass(frozen=True)
class ExportDetails:
    """An export as its owner sees it: with a short-lived download URL once ready."""

    export: DataExport
    url: str | None = None


class RequestExport:
    """Queues an export (the row and its job in one transaction); one queued or building
    per user, else ExportInProgress."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, relay: Wakeup) -> None:
        self._uow_factory, self._clock, self._relay = uow_factory, clock, relay

    async def __call__(self, user_id: str) -> DataExport:
        now = self._clock()
        export = DataExport.request(new_id(), user_id, now)
        async with self._uow_factory() as uow:
            await uow.exports.add(export)
            await uow.outbox.add(OutboxMessage(
                new_id(), EXPORT_REQUESTED, {"export_id": export.id, "user_id": user_id}, now))
            await uow.commit()
        self._relay.wake()
        return export


class GetExport:
    """The caller's own export; another user's is not found."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, store: ObjectStore, policy: ImagePolicy,
        clock: Clock,
    ) -> None:
        self._uow_factory, self._store, self._policy = uow_factory, store, policy
        self._clock = clock

    async def __call__(self, user_id: str, export_id: str) -> ExportDetails:
        async with self._uow_factory() as uow:
            export = await uow.exports.get(export_id)
        if export is None or export.user_id != user_id:
            raise ExportNotFound()
        if export.expired(self._clock()):
            raise ExportExpired()
        if export.status is ExportStatus.READY and export.object_key:
            url = await self._store.download_url(export.object_key, self._policy.url_ttl_seconds)
            return ExportDetails(export, url)
        return ExportDetails(export)
