"""The one place an AsyncEngine is built: PostgreSQL (asyncpg) or SQLite (aiosqlite)."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Dialect, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from adapters.sql.errors import storage_error_for, storage_errors
from application.ports.storage import StorageUnavailable

if TYPE_CHECKING:
    import asyncpg

_POSTGRES = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE = {"sqlite", "sqlite+aiosqlite"}
SQLITE_BUSY_TIMEOUT_S = 30
DEFAULT_POOL_SIZE = 10
STATEMENT_TIMEOUT_MS = 30_000


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


def _asyncpg_arguments(url: URL) -> tuple[URL, dict[str, Any]]:
    connect_args: dict[str, Any] = {}
    if "sslmode" in url.query:
        # libpq spelling (RDS docs, DATABASE_URL conventions); asyncpg calls it `ssl`.
        connect_args["ssl"] = url.query["sslmode"]
        url = url.difference_update_query(["sslmode"])
    return url, connect_args


def create_engine(
    url: str, *, pool_size: int = DEFAULT_POOL_SIZE, echo: bool = False
) -> AsyncEngine:
    parsed = normalize_url(url)
    if is_sqlite(parsed):
        return _sqlite_engine(parsed, echo)
    parsed, connect_args = _asyncpg_arguments(parsed)
    engine = create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )
    _raise_storage_errors(engine)
    return engine


def _raise_storage_errors(engine: AsyncEngine) -> None:
    """Whatever runs on this engine (Units of Work, the credential store, a probe) raises
    StorageUnavailable or UnstorableText in place of the driver's error that means it."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        # A refused or timed-out connect is a bare OSError, which handle_error never sees.
        with storage_errors():
            return dialect.connect(*cargs, **cparams)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _translate(context: ExceptionContext) -> BaseException | None:
        if context.is_pre_ping:  # the pool replaces that connection itself
            return None
        if context.is_disconnect:  # SQLAlchemy's judgement: the connection is gone
            return StorageUnavailable()
        return storage_error_for(context.original_exception)


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

    _raise_storage_errors(engine)
    return engine


async def create_driver_pool(url: str, *, size: int = DEFAULT_POOL_SIZE) -> "asyncpg.Pool":
    """A plain asyncpg pool on the same PostgreSQL database, for the few hot paths that
    cannot afford SQLAlchemy's per-statement cost. Connects lazily, like the engine."""
    import asyncpg

    parsed, connect_args = _asyncpg_arguments(normalize_url(url))
    if is_sqlite(parsed):
        raise ValueError("a driver pool is for PostgreSQL only")
    return await asyncpg.create_pool(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
        database=parsed.database, min_size=0, max_size=size,
        max_inactive_connection_lifetime=300, reset=_keep_session,
        # Enforced by the server: a client-side command_timeout arms a timer per statement.
        server_settings={"statement_timeout": str(STATEMENT_TIMEOUT_MS)}, **connect_args,
    )


async def _keep_session(_connection: object) -> None:
    """Replaces asyncpg's reset query on release (one round trip per use): the pool's users
    run single autocommitted statements and change no session state. An open transaction
    is still rolled back by asyncpg itself."""
