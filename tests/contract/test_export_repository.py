"""Data exports behave alike in memory, on SQLite and on PostgreSQL."""

from datetime import timedelta

import pytest

from domain.exports.model import DataExport, ExportInProgress, ExportStatus
from domain.users.model import User
from tests.contract.conftest import T0, RepoBackend


async def _guest(backend: RepoBackend, user_id: str) -> None:
    async with backend.uow() as uow:
        await uow.users.add(User.new_guest(user_id, T0))
        await uow.commit()


async def test_one_queued_or_building_export_per_user(repo_backend: RepoBackend) -> None:
    await _guest(repo_backend, "u1")
    await _guest(repo_backend, "u2")
    first = DataExport.request("e1", "u1", T0)
    async with repo_backend.uow() as uow:
        await uow.exports.add(first)
        await uow.exports.add(DataExport.request("e2", "u2", T0))  # another user: fine
        await uow.commit()
    for status in (ExportStatus.QUEUED, ExportStatus.BUILDING):
        async with repo_backend.uow() as uow:
            first.status = status
            await uow.exports.update(first)
            await uow.commit()
        async with repo_backend.uow() as uow:
            with pytest.raises(ExportInProgress):
                await uow.exports.add(DataExport.request("e3", "u1", T0))
    async with repo_backend.uow() as uow:
        first.complete(T0 + timedelta(minutes=1))
        await uow.exports.update(first)
        await uow.exports.add(DataExport.request("e3", "u1", T0))  # once ready: fine
        await uow.commit()
    async with repo_backend.uow() as uow:
        stored = await uow.exports.get("e1")
        assert stored == first and stored.object_key == "exports/u1/e1.zip"
        assert stored.expires_at == T0 + timedelta(minutes=1, days=7)
        assert (await uow.exports.get("e3")) is not None


async def test_exports_go_with_their_user(repo_backend: RepoBackend) -> None:
    await _guest(repo_backend, "u1")
    async with repo_backend.uow() as uow:
        await uow.exports.add(DataExport.request("e1", "u1", T0))
        await uow.commit()
    async with repo_backend.uow() as uow:
        await uow.users.delete("u1")
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.exports.get("e1") is None
