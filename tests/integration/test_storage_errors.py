"""The SQL adapters raise the storage port's errors, never their driver's, so the edge maps
an outage to 503 and refused text to 422 without knowing which database is behind them.
On the real PostgreSQL server, through both paths (SQLAlchemy and the asyncpg pool)."""

import socket
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from adapters.sql.engine import create_driver_pool, create_engine
from adapters.sql.refresh_ledger import AsyncpgRefreshLedger
from adapters.sql.unit_of_work import sql_unit_of_work_factory
from application.ports.storage import StorageUnavailable, UnstorableText
from domain.sessions.tokens import hash_token

pytestmark = pytest.mark.postgres


def _unreachable(postgres_url: str) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])  # closed again when the block ends
    return make_url(postgres_url).set(host="127.0.0.1", port=port).render_as_string(
        hide_password=False)


async def test_an_unreachable_database_is_storage_unavailable(postgres_url: str) -> None:
    engine = create_engine(_unreachable(postgres_url))
    factory = sql_unit_of_work_factory(engine)
    try:
        with pytest.raises(StorageUnavailable):
            async with factory() as uow:
                await uow.users.get("u-1")
        with pytest.raises(StorageUnavailable):
            await factory.probe()
    finally:
        await engine.dispose()


async def test_the_driver_path_is_storage_unavailable_too(postgres_url: str) -> None:
    pool = await create_driver_pool(_unreachable(postgres_url), size=2)
    ledger = AsyncpgRefreshLedger(pool)
    try:
        with pytest.raises(StorageUnavailable):
            await ledger.find("any-family")
        with pytest.raises(StorageUnavailable):
            await ledger.rotate("any-family", 0, hash_token("any"), "IDFV-DOWN-000001",
                                hash_token("next"), b"n" * 16, datetime.now(UTC))
    finally:
        await pool.close()


async def test_a_connection_the_server_ends_is_storage_unavailable(
    postgres_url: str, pg_engine: object
) -> None:
    engine = create_engine(postgres_url)
    factory = sql_unit_of_work_factory(engine)
    admin = await asyncpg.connect(make_url(postgres_url).set(drivername="postgresql")
                                  .render_as_string(hide_password=False))
    try:
        await factory.probe()
        with pytest.raises(StorageUnavailable):
            async with factory() as uow:
                assert await uow.users.get("u-1") is None  # holds its connection from here
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()")
                await uow.users.get("u-1")
        async with factory() as uow:  # the pool replaced the connection
            assert await uow.users.get("u-1") is None
    finally:
        await admin.close()
        await engine.dispose()


async def test_text_the_database_refuses_is_unstorable_not_an_outage(
    postgres_url: str, pg_engine: object
) -> None:
    engine = create_engine(postgres_url)
    factory = sql_unit_of_work_factory(engine)
    try:
        with pytest.raises(UnstorableText) as refused:
            async with factory() as uow:
                await uow.users.get_by_email("a\x00b@example.com")
        assert refused.value.code == "invalid_characters"
        await factory.probe()
    finally:
        await engine.dispose()
