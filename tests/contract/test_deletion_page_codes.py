"""The deletion page's code store, one contract on every backend: memory, SQLite and
PostgreSQL. One live code per member, attempts counted atomically (at most the cap win
however many race), single use, gone with the member."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.deletion_codes import InMemoryDeletionCodeStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.sql.deletion_codes import SqlDeletionCodeStore
from adapters.sql.engine import create_engine
from adapters.sql.unit_of_work import sql_unit_of_work_factory
from application.ports.deletion_codes import DeletionCode, DeletionCodeStore
from application.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.conftest import T0, member

LATER = T0 + timedelta(minutes=1)
EXPIRES = T0 + timedelta(hours=1)


@dataclass
class Backend:
    codes: DeletionCodeStore
    uow: UnitOfWorkFactory

    async def new_member(self) -> str:
        user = member()
        async with self.uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user.id


@pytest.fixture
async def backend(repo_backend_url: tuple[str, str | None]) -> AsyncIterator[Backend]:
    _, url = repo_backend_url
    if url is None:
        database = InMemoryDatabase()
        yield Backend(InMemoryDeletionCodeStore(database), InMemoryUnitOfWorkFactory(database))
        return
    engine = create_engine(url)
    try:
        yield Backend(SqlDeletionCodeStore(engine), sql_unit_of_work_factory(engine))
    finally:
        await engine.dispose()


def code(user_id: str, code_hash: str = "h1") -> DeletionCode:
    return DeletionCode(user_id, code_hash, T0, EXPIRES)


async def test_a_code_is_counted_then_spent_once(backend: Backend) -> None:
    user_id = await backend.new_member()
    await backend.codes.save(code(user_id))
    taken = await backend.codes.take_attempt(user_id, LATER, 5)
    assert taken == DeletionCode(user_id, "h1", T0, EXPIRES, attempts=1)
    assert not await backend.codes.spend(user_id, "another hash")
    assert await backend.codes.spend(user_id, "h1")
    assert not await backend.codes.spend(user_id, "h1")
    assert await backend.codes.take_attempt(user_id, LATER, 5) is None


async def test_a_new_code_replaces_the_old_and_its_attempts(backend: Backend) -> None:
    user_id = await backend.new_member()
    await backend.codes.save(code(user_id))
    for _ in range(5):
        assert await backend.codes.take_attempt(user_id, LATER, 5) is not None
    assert await backend.codes.take_attempt(user_id, LATER, 5) is None
    await backend.codes.save(code(user_id, "h2"))
    taken = await backend.codes.take_attempt(user_id, LATER, 5)
    assert taken is not None and (taken.code_hash, taken.attempts) == ("h2", 1)
    assert not await backend.codes.spend(user_id, "h1")


async def test_an_expired_code_or_none_at_all_is_none(backend: Backend) -> None:
    user_id = await backend.new_member()
    assert await backend.codes.take_attempt(user_id, LATER, 5) is None
    await backend.codes.save(code(user_id))
    assert await backend.codes.take_attempt(user_id, EXPIRES, 5) is None


async def test_twenty_attempts_at_once_never_pass_the_cap(backend: Backend) -> None:
    user_id = await backend.new_member()
    await backend.codes.save(code(user_id))
    taken = await asyncio.gather(*(
        backend.codes.take_attempt(user_id, LATER, 5) for _ in range(20)))
    counted = sorted(t.attempts for t in taken if t is not None)
    assert counted == [1, 2, 3, 4, 5]


async def test_the_code_goes_with_the_member(backend: Backend) -> None:
    user_id, other = await backend.new_member(), await backend.new_member()
    await backend.codes.save(code(user_id))
    await backend.codes.save(code(other))
    async with backend.uow() as uow:
        await uow.users.delete(user_id)
        await uow.commit()
    assert await backend.codes.take_attempt(user_id, LATER, 5) is None
    assert await backend.codes.take_attempt(other, LATER, 5) is not None
    with pytest.raises(Exception):  # noqa: B017 (a foreign key, or its in-memory twin)
        await backend.codes.save(code("no-such-user"))
