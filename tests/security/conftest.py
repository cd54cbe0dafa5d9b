from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from adapters.sql.migrate import upgrade_database
from tests.support.stack import Stack, running_stack


@pytest.fixture
async def make_stack(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[Stack]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)

    def factory(**overrides: Any) -> AbstractAsyncContextManager[Stack]:
        return running_stack(tmp_path / "data", url, **overrides)

    return factory


@pytest.fixture
async def stack(make_stack: Callable[..., AbstractAsyncContextManager[Stack]]
                ) -> AsyncIterator[Stack]:
    async with make_stack() as running:
        yield running


@pytest.fixture(params=["sqlite", "postgres"])
async def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The embedded default's SQLite file, then the real PostgreSQL server (emptied after)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
        await upgrade_database(url)
        yield url
    else:
        request.getfixturevalue("pg_engine")
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def make_any_stack(
    any_database_url: str, tmp_path: Path
) -> Callable[..., AbstractAsyncContextManager[Stack]]:
    """The mobile API on SQLite and on PostgreSQL (the test runs once on each)."""

    def factory(**overrides: Any) -> AbstractAsyncContextManager[Stack]:
        return running_stack(tmp_path / "data", any_database_url, **overrides)

    return factory
