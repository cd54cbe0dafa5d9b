"""Schema migrations (alembic, run in code: no alembic.ini) and the readiness check."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x41_54_45_4C  # "ATEL"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade_database(url: str, revision: str = "head") -> None:
    """`alembic upgrade head` on PostgreSQL or SQLite; safe to run again."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Several containers may start at once: one migrates, the others wait, then no-op.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    command.upgrade(alembic_config(connection), revision)


async def check_database(engine: AsyncEngine, within_s: float = 5.0) -> None:
    """Raises unless the database answers SELECT 1 within `within_s` seconds."""
    async with asyncio.timeout(within_s), engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def check_schema(url: str) -> None:
    """Raises the database's own "no such table" (SQLite) or "does not exist" (PostgreSQL)
    error unless migrations have run on it."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
