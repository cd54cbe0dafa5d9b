"""The export job on the memory adapters: what a late, repeated or stale delivery does."""

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.object_store import InMemoryObjectStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from application.exports.build_export import EXPORT_READY_EMAIL, GIVE_UP_AFTER, BuildExport
from application.exports.request_export import RequestExport
from domain.exports.model import ExportInProgress, ExportStatus, export_key_for
from domain.users.identities import LinkedIdentity, Provider
from domain.users.model import User

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Wakeup:
    def wake(self) -> None:
        pass


class World:
    def __init__(self) -> None:
        self.uow = InMemoryUnitOfWorkFactory(InMemoryDatabase())
        self.store, self.clock = InMemoryObjectStore(), Clock()
        self.request = RequestExport(self.uow, self.clock, Wakeup())
        self.build = BuildExport(self.uow, self.store, self.clock, Wakeup())

    async def guest(self) -> User:
        user = User.new_guest("u1", T0)
        async with self.uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    async def status(self, export_id: str) -> ExportStatus | None:
        async with self.uow() as uow:
            export = await uow.exports.get(export_id)
        return export.status if export else None


async def test_a_second_request_while_one_is_queued_is_refused() -> None:
    world = World()
    user = await world.guest()
    first = await world.request(user.id)
    with pytest.raises(ExportInProgress):
        await world.request(user.id)
    await world.build({"export_id": first.id})
    assert await world.status(first.id) is ExportStatus.READY
    assert (await world.request(user.id)).status is ExportStatus.QUEUED


async def test_the_account_deleted_during_the_build_leaves_no_zip() -> None:
    world = World()
    user = await world.guest()
    export = await world.request(user.id)
    real_put = world.store.put

    async def put_then_delete_account(key: str, data: bytes, content_type: str) -> None:
        await real_put(key, data, content_type)
        async with world.uow() as uow:
            await uow.users.delete(user.id)
            await uow.commit()

    world.store.put = put_then_delete_account  # type: ignore[method-assign]
    await world.build({"export_id": export.id})
    assert export_key_for(user.id, export.id) not in world.store.objects


async def test_an_export_never_built_within_a_day_fails_and_frees_the_user() -> None:
    world = World()
    user = await world.guest()
    export = await world.request(user.id)
    world.clock.now = T0 + GIVE_UP_AFTER + timedelta(seconds=1)
    await world.build({"export_id": export.id})
    assert await world.status(export.id) is ExportStatus.FAILED
    assert world.store.objects == {}
    assert (await world.request(user.id)).status is ExportStatus.QUEUED


async def test_two_deliveries_of_one_build_write_the_same_zip_and_one_email() -> None:
    """At-least-once: two relays may deliver the same job at once (or again after a crash
    mid-build); both build the same bytes under the same key, and one e-mail is queued."""
    world = World()
    user = User.new_member("u1", "someone@example.com", "sub-1", T0)
    user.email_confirmed = True
    async with world.uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    export = await world.request(user.id)
    written: list[bytes] = []
    real_put = world.store.put

    async def recording_put(key: str, data: bytes, content_type: str) -> None:
        written.append(data)
        await asyncio.sleep(0.01)  # let the other delivery catch up
        await real_put(key, data, content_type)

    world.store.put = recording_put  # type: ignore[method-assign]
    await asyncio.gather(world.build({"export_id": export.id}),
                         world.build({"export_id": export.id}))
    assert len(written) == 2 and written[0] == written[1]
    assert await world.status(export.id) is ExportStatus.READY
    async with world.uow() as uow:
        mails = await uow.outbox.claim(frozenset({EXPORT_READY_EMAIL}), 10)
    assert [m.payload["email"] for m in mails] == ["someone@example.com"]


async def test_linked_sign_ins_are_in_the_zip() -> None:
    world = World()
    user = await world.guest()
    async with world.uow() as uow:
        await uow.identities.add(LinkedIdentity(
            user_id=user.id, provider=Provider.APPLE, subject="apple-sub",
            email="x@privaterelay.appleid.com", created_at=T0))
        await uow.commit()
    export = await world.request(user.id)
    await world.build({"export_id": export.id})
    data, _ = world.store.objects[export_key_for(user.id, export.id)]
    sign_ins = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("sign_ins.json"))
    assert sign_ins == [{"provider": "apple", "email": "x@privaterelay.appleid.com",
                         "linked_at": T0.isoformat()}]
