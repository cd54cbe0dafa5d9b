"""The export job, delivered by the outbox relay until it succeeds. Idempotent: a
redelivered job whose export is ready, failed or gone changes nothing; one that finds it
still building (a crash mid-build) builds it again under the same key."""

from datetime import timedelta
from typing import Any

from application.exports.archive import build_archive
from application.exports.request_export import EXPORT_REQUESTED
from application.ports.clock import Clock
from application.ports.images import Destinations, ObjectStore, OutboxMessage, Wakeup
from application.ports.messaging import Email, Mailer
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.exports.model import KEPT_FOR, ExportStatus, export_key_for
from domain.images.model import ImageJob
from domain.shared.ids import new_id

EXPORT_READY_EMAIL = "export.ready_email"
IMAGES_PAGE = 200
# An export still not built after this is marked failed, so the member may ask again.
GIVE_UP_AFTER = timedelta(days=1)


class BuildExport:
    """Builds the zip under exports/{user_id}/{export_id}.zip, marks the export ready and
    queues the e-mail to a confirmed address, in one transaction."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, store: ObjectStore, clock: Clock, relay: Wakeup,
    ) -> None:
        self._uow_factory, self._store, self._clock, self._relay = (
            uow_factory, store, clock, relay)

    async def __call__(self, payload: dict[str, Any]) -> None:
        export_id = str(payload["export_id"])
        async with self._uow_factory() as uow:
            export = await uow.exports.get(export_id)
            user = await uow.users.get(export.user_id) if export is not None else None
            if export is None or user is None or not export.active:
                return
            if self._clock() - export.created_at > GIVE_UP_AFTER:
                export.fail(self._clock())
                await uow.exports.update(export)
                await uow.commit()
                return
            export.start()
            await uow.exports.update(export)
            devices = await uow.devices.for_user(user.id)
            sign_ins = await uow.identities.for_user(user.id)
            await uow.commit()
        images = await self._images_of(user.id)
        archive = await build_archive(
            self._store, user, devices, sign_ins, images, export.created_at)
        key = export_key_for(user.id, export_id)
        await self._store.put(key, archive, "application/zip")
        async with self._uow_factory() as uow:
            export = await uow.exports.get(export_id)
            # Another delivery may have finished it first: then this changes nothing.
            if export is not None and export.status is ExportStatus.BUILDING:
                now = self._clock()
                export.complete(now)
                await uow.exports.update(export)
                if user.email and user.email_confirmed:
                    await uow.outbox.add(OutboxMessage(
                        new_id(), EXPORT_READY_EMAIL, {"email": user.email}, now))
                await uow.commit()
        if export is None:  # the account was deleted meanwhile: leave nothing behind
            await self._store.delete(key)
        self._relay.wake()

    async def _images_of(self, user_id: str) -> list[ImageJob]:
        """Every image row held for the user (hidden and deleted ones too), page by page."""
        found: list[ImageJob] = []
        before = None
        while True:
            async with self._uow_factory() as uow:
                page = await uow.images.search(None, user_id, IMAGES_PAGE, before)
            found.extend(page)
            if len(page) < IMAGES_PAGE:
                return found
            before = (page[-1].created_at, page[-1].id)


def export_jobs(build: BuildExport, mailer: Mailer) -> Destinations:
    """What the worker's export relay does with the export topics."""

    async def email_ready(payload: dict[str, Any]) -> None:
        days = KEPT_FOR.days
        await mailer.send(Email(
            to=str(payload["email"]),
            subject="Your Atelier data export is ready",
            body="The copy of your data you asked for is ready. Open Atelier to download "
                 f"it; it is kept for {days} days.\n",
        ))

    return {EXPORT_REQUESTED: build, EXPORT_READY_EMAIL: email_ready}
