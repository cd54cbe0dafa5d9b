from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from adapters.sql.migrate import upgrade_database
from tests.support.stack import Stack, running_stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The embedded default's SQLite file, and the real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
        await upgrade_database(url)
        yield url
    else:
        request.getfixturevalue("pg_engine")  # a migrated database, emptied after the test
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def make_stack(database_url: str, tmp_path: Path) -> StackFactory:
    def factory(**overrides: Any) -> AbstractAsyncContextManager[Stack]:
        return running_stack(tmp_path / "data", database_url, **overrides)

    return factory


@pytest.fixture
async def stack(make_stack: StackFactory) -> AsyncIterator[Stack]:
    async with make_stack() as running:
        yield running
