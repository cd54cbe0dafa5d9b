"""The repository contract runs on every backend: memory, SQLite (migrated) and PostgreSQL."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from adapters.local.credentials import CredentialStore
from adapters.memory.credentials import InMemoryCredentialStore
from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork, InMemoryUnitOfWorkFactory
from adapters.sql.credentials import SqlCredentialStore
from adapters.sql.engine import create_engine
from adapters.sql.tables import images
from adapters.sql.unit_of_work import SqlAlchemyUnitOfWork, sql_unit_of_work_factory
from domain.shared.ids import new_id
from domain.users.model import User

# Microseconds on purpose: every backend must keep them.
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

InsertImage = Callable[[str, str | None], Awaitable[str]]
UowFactory = Callable[[], InMemoryUnitOfWork | SqlAlchemyUnitOfWork]


@dataclass
class RepoBackend:
    name: str
    uow: UowFactory
    credentials: CredentialStore
    insert_image: InsertImage
    """(user_id, idempotency_key) -> the new image's id, committed."""


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def repo_backend_url(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    if request.param == "sqlite":
        return "sqlite", request.getfixturevalue("sqlite_url")
    if request.param == "postgres":
        request.getfixturevalue("pg_engine")  # tables emptied after the test
        return "postgres", request.getfixturevalue("postgres_url")
    return "memory", None


@pytest.fixture
async def repo_backend(repo_backend_url: tuple[str, str | None]) -> AsyncIterator[RepoBackend]:
    name, url = repo_backend_url
    if url is None:
        database = InMemoryDatabase()

        async def insert_memory_image(user_id: str, key: str | None) -> str:
            image_id = new_id()
            database.insert_image(image_id, user_id, idempotency_key=key)
            return image_id

        yield RepoBackend(
            name, InMemoryUnitOfWorkFactory(database), InMemoryCredentialStore(),
            insert_memory_image)
        return
    engine = create_engine(url)

    async def insert_sql_image(user_id: str, key: str | None) -> str:
        image_id = new_id()
        async with engine.begin() as connection:
            await connection.execute(insert(images).values(
                id=image_id, user_id=user_id, status="queued", prompt="a red fox",
                size="1024x1024", quality="medium", idempotency_key=key,
                created_at=T0, updated_at=T0,
            ))
        return image_id

    try:
        yield RepoBackend(
            name, sql_unit_of_work_factory(engine), SqlCredentialStore(engine),
            insert_sql_image)
    finally:
        await engine.dispose()


def guest(last_seen: datetime = T0) -> User:
    user = User.new_guest(new_id(), T0 - timedelta(days=365))
    user.last_seen_at = last_seen
    return user


def member(email: str | None = None) -> User:
    user_id = new_id()
    return User.new_member(user_id, email or f"{user_id}@example.com", f"sub-{user_id}", T0)
