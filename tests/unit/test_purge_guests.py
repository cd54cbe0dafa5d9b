"""`atelier guests purge`: idle guests go with their images and stored pictures; a live
transfer code, a member or recent activity keeps an account."""

from datetime import UTC, datetime, timedelta

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWorkFactory
from adapters.memory.object_store import InMemoryObjectStore
from application.auth.policy import AuthPolicy
from application.guests.purge_guests import PurgeGuests
from domain.images.model import ImageJob
from domain.images.options import ImageRequest
from domain.transfers.model import TransferCode
from domain.users.model import User

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=91)


async def test_idle_guests_go_with_their_pictures_and_nothing_else_does() -> None:
    uow_factory = InMemoryUnitOfWorkFactory(InMemoryDatabase())
    store = InMemoryObjectStore()
    idle, kept_by_code, recent = (User.new_guest(n, LONG_AGO) for n in ("idle", "code", "new"))
    recent.last_seen_at = NOW - timedelta(days=1)
    member = User.new_member("member", "a@example.com", "sub", LONG_AGO)
    async with uow_factory() as uow:
        for user in (idle, kept_by_code, recent, member):
            await uow.users.add(user)
        for owner in (idle, member):
            job = ImageJob.request(f"img-{owner.id}", owner.id,
                                   ImageRequest.parse("a fox", None, None), LONG_AGO)
            job.start(LONG_AGO)
            job.complete(f"images/{owner.id}/{job.id}.png", LONG_AGO)
            await uow.images.add(job)
            await store.put(f"images/{owner.id}/{job.id}.png", b"png", "image/png")
        code, _ = TransferCode.issue(kept_by_code.id, NOW - timedelta(hours=1),
                                     timedelta(hours=24))
        await uow.transfer_codes.add(code)
        await uow.commit()

    purged = await PurgeGuests(uow_factory, store, AuthPolicy(), lambda: NOW)()

    assert purged == 1
    assert not await store.exists("images/idle/img-idle.png")
    assert await store.exists("images/member/img-member.png")
    async with uow_factory() as uow:
        assert await uow.users.get("idle") is None
        assert await uow.images.get("img-idle") is None
        for survivor in ("code", "new", "member"):
            assert await uow.users.get(survivor) is not None
    assert await PurgeGuests(uow_factory, store, AuthPolicy(), lambda: NOW)() == 0
