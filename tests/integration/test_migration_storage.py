"""Storage settings the migrations give PostgreSQL: refresh_families keeps half of each
page free (0011), so a rotation's new row version usually stays on its page and adds no
index entries; rotating one session many times is then mostly heap-only updates."""

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from adapters.sql.engine import normalize_url
from adapters.sql.migrate import upgrade_database
from tests.fixtures.postgres import _create_database, _drop_database, admin_url

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database() -> AsyncIterator[tuple[str, str]]:
    name = f"atelier_storage_{secrets.token_hex(6)}"
    await _create_database(name)
    url = normalize_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield name, url
    finally:
        await _drop_database(name)


async def reloptions(url: str, table: str) -> list[str] | None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        options: list[str] | None = await connection.fetchval(
            "SELECT reloptions FROM pg_class WHERE relname = $1", table)
        return options
    finally:
        await connection.close()


async def test_refresh_families_pages_keep_room_for_the_next_row_version(
    database: tuple[str, str],
) -> None:
    _, url = database
    await upgrade_database(url, "0010_refresh_generation")
    assert await reloptions(url, "refresh_families") is None
    await upgrade_database(url)
    assert await reloptions(url, "refresh_families") == ["fillfactor=50"]
