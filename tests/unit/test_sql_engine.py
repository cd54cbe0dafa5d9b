"""The engine factory's URL handling and SQLite settings; UTC datetimes on SQLite."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.sql.columns import UtcDateTime
from adapters.sql.engine import create_engine, normalize_url
from adapters.sql.migrate import check_database


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db:5432/atelier", "postgresql+asyncpg"),
        ("postgres://u:p@db:5432/atelier", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u:p@db:5432/atelier", "postgresql+asyncpg"),
        ("sqlite:///data/atelier.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///data/atelier.db", "sqlite+aiosqlite"),
    ],
)
def test_urls_are_normalised_to_the_async_drivers(given: str, driver: str) -> None:
    url = normalize_url(given)
    assert url.drivername == driver
    assert url.database in ("atelier", "data/atelier.db")


def test_other_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        normalize_url("mysql://u@db/atelier")


async def test_postgres_engine_pings_and_translates_sslmode() -> None:
    engine = create_engine("postgres://u:p@db.internal:5432/atelier?sslmode=require")
    try:
        assert engine.url.drivername == "postgresql+asyncpg"
        assert "sslmode" not in engine.url.query
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_sqlite_engine_has_one_connection_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'nested' / 'atelier.db'}")
    try:
        assert engine.pool.size() == 1  # type: ignore[attr-defined]
        await check_database(engine)
        async with engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert await connection.scalar(text("PRAGMA busy_timeout")) == 30000
    finally:
        await engine.dispose()
    assert (tmp_path / "nested" / "atelier.db").exists()


def test_utc_datetime_stores_utc_and_reads_aware() -> None:
    column = UtcDateTime()
    tokyo = datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    stored = column.process_bind_param(tokyo, None)  # type: ignore[arg-type]
    assert stored == datetime(2026, 1, 1, 0, 0, tzinfo=UTC) and stored.tzinfo is UTC
    naive = datetime(2026, 1, 1, 0, 0)
    assert column.process_result_value(naive, None) == datetime(  # type: ignore[arg-type]
        2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(naive, None)  # type: ignore[arg-type]
