"""The console overview's counts on memory, SQLite and PostgreSQL: one contract."""

from datetime import timedelta

from domain.images.model import ImageStatus
from domain.users.model import UserKind
from tests.contract.conftest import RepoBackend, guest, member


async def test_users_count_by_kind(repo_backend: RepoBackend) -> None:
    async with repo_backend.uow() as uow:
        assert await uow.counts.users_by_kind() == {}
        for user in (guest(), guest(), guest(), member()):
            await uow.users.add(user)
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.counts.users_by_kind() == {UserKind.GUEST: 3, UserKind.MEMBER: 1}


async def test_images_count_by_status_since_a_time(repo_backend: RepoBackend) -> None:
    owner = member()
    async with repo_backend.uow() as uow:
        await uow.users.add(owner)
        await uow.commit()
    ids = [await repo_backend.insert_image(owner.id, None) for _ in range(3)]
    async with repo_backend.uow() as uow:
        job = await uow.images.get_for_update(ids[0])
        assert job is not None
        job.status = ImageStatus.FAILED
        await uow.images.update(job)
        await uow.commit()
    async with repo_backend.uow() as uow:
        created = (await uow.images.get(ids[1]))
        assert created is not None
        counted = await uow.counts.images_by_status(created.created_at - timedelta(seconds=1))
        later = await uow.counts.images_by_status(created.created_at + timedelta(days=1))
    assert counted == {ImageStatus.FAILED: 1, ImageStatus.QUEUED: 2}
    assert later == {}
