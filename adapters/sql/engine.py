"""The one place an AsyncEngine is built: PostgreSQL (asyncpg) or SQLite (aiosqlite)."""

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

_POSTGRES = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE = {"sqlite", "sqlite+aiosqlite"}
SQLITE_BUSY_TIMEOUT_S = 30


def normalize_url(url: str) -> URL:
    """postgres[ql]:// -> postgresql+asyncpg://, sqlite:// -> sqlite+aiosqlite://."""
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES:
        return parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername in _SQLITE:
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")


def is_sqlite(url: str | URL) -> bool:
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    parsed = normalize_url(url)
    if is_sqlite(parsed):
        return _sqlite_engine(parsed, echo)
    connect_args: dict[str, Any] = {}
    if "sslmode" in parsed.query:
        # libpq spelling (RDS docs, DATABASE_URL conventions); asyncpg calls it `ssl`.
        connect_args["ssl"] = parsed.query["sslmode"]
        parsed = parsed.difference_update_query(["sslmode"])
    return create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _sqlite_engine(url: URL, echo: bool) -> AsyncEngine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        engine = create_async_engine(
            url, echo=echo, poolclass=StaticPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        )
    else:
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # One connection: write transactions queue in the pool instead of failing with
        # "database is locked".
        engine = create_async_engine(
            url, echo=echo, pool_size=1, max_overflow=0,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
        )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions over from the driver so BEGIN, SAVEPOINT and rollback are real.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE: take the write lock up front, so another process waits (busy timeout)
        # instead of failing on a read-to-write upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
