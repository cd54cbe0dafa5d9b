"""`atelier maintenance run`'s use case on SQLite and PostgreSQL, behind the real mobile API:
exactly the old dead rows go, in batches; what a rule still reads stays and still works."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.tables import (
    console_sessions,
    deletion_codes,
    id_token_uses,
    local_codes,
    login_attempts,
    outbox,
    refresh_families,
    refresh_tokens,
    transfer_codes,
)
from application.maintenance.retention import BATCH
from domain.shared.clock import utcnow
from domain.shared.ids import new_id
from entrypoints.cli.container import CliContainer, use_case
from entrypoints.dev.app import running_retention
from entrypoints.wiring.di import ResolvedProviders
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.lifespan import running
from entrypoints.wiring.settings import Settings
from tests.support.phone import API, bearer, device_id, error_code, new_guest, refresh
from tests.support.stack import Stack, running_stack

LOCKED = "locked@example.com"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        request.getfixturevalue("pg_engine")  # tables emptied after the test
        url = request.getfixturevalue("postgres_url")
    # No grace for a repeated refresh: the replay below must be read as reuse at once.
    async with running_stack(tmp_path, url, reuse_interval_seconds=0) as running:
        yield running


async def count(stack: Stack, table: Any, *where: Any) -> int:
    async with (await stack.engine()).connect() as connection:
        found = await connection.scalar(select(func.count()).select_from(table).where(*where))
    return int(found or 0)


async def seed(stack: Stack, live_user: str, other_user: str) -> None:
    """Rows of every kind: old and dead (to go), fresh or still live (to stay)."""
    now = utcnow()
    day, hour = timedelta(days=1), timedelta(hours=1)
    old = now - 2 * day
    async with (await stack.engine()).begin() as db:
        await db.execute(insert(outbox), [
            *({"id": new_id(), "topic": "image.ready", "payload": "{}",
               "created_at": old, "published_at": old} for _ in range(BATCH * 2 + 500)),
            {"id": "fresh-delivered", "topic": "t", "payload": "{}", "created_at": now - hour,
             "published_at": now - hour},
            {"id": "old-undelivered", "topic": "t", "payload": "{}", "created_at": old,
             "published_at": None},
        ])
        await db.execute(insert(login_attempts), [
            {"email": "long-ago@example.com", "source": "*", "failures": 7,
             "locked_until": old, "last_failed_at": old - hour},
            {"email": LOCKED, "source": "*", "failures": 60, "locked_until": now + hour,
             "last_failed_at": now - hour},
            {"email": "recent@example.com", "source": "*", "failures": 9,
             "locked_until": now - hour, "last_failed_at": now - 2 * hour},
            {"email": "counting@example.com", "source": "*", "failures": 2,
             "locked_until": None, "last_failed_at": now - hour},
            # Below the threshold, last failure long ago: forgotten.
            {"email": "counted-long-ago@example.com", "source": "*", "failures": 4,
             "locked_until": None, "last_failed_at": old},
            # Locked until an hour ago, but failed again since (a count still growing).
            {"email": "again@example.com", "source": "1.2.3.4", "failures": 9,
             "locked_until": old, "last_failed_at": now - hour},
        ])
        await db.execute(insert(transfer_codes), [
            {"hash": "used-old", "user_id": live_user, "created_at": old - day,
             "expires_at": now + day, "used_at": old, "voided_at": None},
            {"hash": "voided-old", "user_id": live_user, "created_at": old - day,
             "expires_at": now + day, "used_at": None, "voided_at": old},
            {"hash": "expired-old", "user_id": other_user, "created_at": old - day,
             "expires_at": old, "used_at": None, "voided_at": None},
            {"hash": "used-fresh", "user_id": live_user, "created_at": now - 2 * hour,
             "expires_at": now + day, "used_at": now - hour, "voided_at": None},
            {"hash": "open-live", "user_id": live_user, "created_at": now - hour,
             "expires_at": now + day, "used_at": None, "voided_at": None},
        ])
        code: dict[str, Any] = {"purpose": "reset", "code_hash": "h", "new_email": None,
                                "attempts": 0, "sent_in_window": 1}
        await db.execute(insert(local_codes), [
            {**code, "subject": "old", "expires_at": now - 3 * day, "sent_at": now - 4 * day,
             "window_started_at": now - 4 * day},
            # Expired, but its day of sends (a send limit) began 30 hours ago: it stays.
            {**code, "subject": "window", "expires_at": now - 3 * day,
             "sent_at": now - 30 * hour, "window_started_at": now - 30 * hour},
            {**code, "subject": "live", "expires_at": now + hour, "sent_at": now - hour,
             "window_started_at": now - hour},
        ])
        await db.execute(insert(deletion_codes), [
            {"user_id": live_user, "code_hash": "h", "created_at": old - day,
             "expires_at": old, "attempts": 0},
            {"user_id": other_user, "code_hash": "h", "created_at": now,
             "expires_at": now + hour, "attempts": 0},
        ])
        await db.execute(insert(id_token_uses), [
            {"provider": "apple", "token_sha256": "old", "device_id": device_id(),
             "expires_at": old},
            {"provider": "apple", "token_sha256": "live", "device_id": device_id(),
             "expires_at": now + hour},
        ])
        family: dict[str, Any] = {"user_id": live_user, "device_id": device_id(),
                                  "current_hash": "c", "generation": 3, "created_at": old}
        await db.execute(insert(refresh_families), [
            {**family, "id": "expired-old", "expires_at": old},
            {**family, "id": "expired-lately", "expires_at": now - hour},
        ])
        await db.execute(insert(refresh_tokens), [
            {"hash": f"{family_id}-{n}", "family_id": family_id, "generation": n,
             "issued_at": old} for family_id in ("expired-old", "expired-lately")
            for n in range(3)
        ])


async def test_retention_deletes_exactly_the_old_dead_rows_in_batches(stack: Stack) -> None:
    client = stack.client
    live_device, ended_device = device_id(), device_id()
    live = await new_guest(client, live_device)
    rotated = await refresh(client, live["tokens"]["refresh_token"], live_device)
    assert rotated.status_code == 200, rotated.text
    ended = await new_guest(client, ended_device)
    logout = await client.delete(f"{API}/sessions/current", headers=bearer(ended["tokens"]))
    assert logout.status_code in (200, 204), logout.text
    ended_hashes = await count(stack, refresh_tokens)
    await seed(stack, live["user"]["id"], ended["user"]["id"])
    async with (await stack.engine()).begin() as db:
        now = utcnow()
        await db.execute(insert(console_sessions), [
            {"id_sha256": name, "admin_subject": "a1", "admin_source": "local",
             "created_at": at - timedelta(hours=12), "last_seen_at": at - timedelta(hours=12),
             "expires_at": at} for name, at in (("old", now - timedelta(days=2)),
                                                ("live", now + timedelta(hours=1)))])

    async with use_case(stack.settings, "run_retention") as run_retention:
        deleted = await run_retention()

    assert deleted == {
        "outbox": BATCH * 2 + 500, "login_attempts": 2, "transfer_codes": 3,
        "local_codes": 1, "deletion_codes": 1, "id_token_uses": 1, "refresh_tokens": 3,
        "refresh_families": 1, "console_sessions": 1,
    }
    assert await count(stack, console_sessions) == 1  # the live sign-in stays
    assert await count(stack, outbox) == 2
    assert set(await emails(stack)) == {LOCKED, "recent@example.com",
                                        "counting@example.com", "again@example.com"}
    assert await count(stack, transfer_codes) == 2
    assert await count(stack, local_codes) == 2
    assert await count(stack, deletion_codes) == 1
    assert await count(stack, id_token_uses, id_token_uses.c.token_sha256 == "live") == 1
    # Refreshes record no hash any more; the first-format hashes of unexpired families stay.
    assert ended_hashes == 0
    assert await count(stack, refresh_tokens) == 3
    assert await count(stack, refresh_families, refresh_families.c.id == "expired-old") == 0

    # A live lock-out still locks.
    locked = await client.post(f"{API}/sessions", json={
        "email": LOCKED, "password": "whatever-it-is", "device_id": device_id(),
        "platform": "ios"})
    assert locked.status_code == 429, locked.text
    assert error_code(locked) == "account_locked"
    # Reuse detection still sees a replayed token: 401, nothing minted, the family ends.
    replay = await refresh(client, live["tokens"]["refresh_token"], live_device)
    assert replay.status_code == 401, replay.text
    assert "tokens" not in replay.json()
    current = await refresh(client, rotated.json()["tokens"]["refresh_token"], live_device)
    assert current.status_code == 401, error_code(current)
    # The ended family's token is refused too.
    ended_replay = await refresh(client, ended["tokens"]["refresh_token"], ended_device)
    assert ended_replay.status_code == 401, ended_replay.text

    async with use_case(stack.settings, "run_retention") as run_retention:
        again = await run_retention()
    assert set(again.values()) == {0}


async def emails(stack: Stack) -> list[str]:
    async with (await stack.engine()).connect() as connection:
        return list((await connection.scalars(select(login_attempts.c.email))).all())


def test_the_command_prints_per_table_counts_and_exits_0(tmp_path: Path) -> None:
    """`atelier maintenance run` as the scheduled task runs it."""
    data = tmp_path / "data"
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("ATELIER_", "DATABASE_URL", "REDIS_URL", "AWS_"))}
    env = {**clean, "ATELIER_DATA_DIR": str(data),
           "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'atelier.db'}"}
    assert run_atelier(env, "db", "upgrade").returncode == 0
    old = utcnow() - timedelta(days=3)

    async def delivered_long_ago() -> None:
        engine = create_async_engine(env["DATABASE_URL"])
        async with engine.begin() as db:
            await db.execute(insert(outbox).values(
                id="old", topic="t", payload="{}", created_at=old, published_at=old))
        await engine.dispose()

    asyncio.run(delivered_long_ago())
    ran = run_atelier(env, "maintenance", "run")
    assert ran.returncode == 0, ran.stderr
    assert "outbox: 1 deleted" in ran.stdout.splitlines()
    assert "refresh_tokens: 0 deleted" in ran.stdout.splitlines()


def run_atelier(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    atelier = str(Path(sys.executable).parent / "atelier")
    return subprocess.run([atelier, *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


async def test_atelier_dev_runs_retention_in_the_background(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path, "database_url": sqlite_url,
                                        "keystore": "memory", "redis_url": None})
    engine = create_async_engine(sqlite_url)
    old = utcnow() - timedelta(days=3)
    async with engine.begin() as db:
        await db.execute(insert(outbox).values(
            id="old", topic="t", payload="{}", created_at=old, published_at=old))
    infrastructure = Infrastructure(settings=settings)
    try:
        async with (
            running(infrastructure, ResolvedProviders(infrastructure, only=())),
            running_retention(CliContainer(infrastructure=infrastructure), first_after=0,
                              every=0.05),
        ):
            for _ in range(600):  # up to 30 s on a loaded machine
                async with engine.connect() as db:
                    left = await db.scalar(select(func.count()).select_from(outbox))
                if left == 0:
                    break
                await asyncio.sleep(0.05)
        assert left == 0
    finally:
        await engine.dispose()
