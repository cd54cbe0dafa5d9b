"""Migration 0010 on SQLite and PostgreSQL: refresh tokens issued by the code before it (of
the first format, recorded one hash per token) keep working after the upgrade. Each is
exchanged for a sealed token of the same family at its next refresh; racing copies of one
converge; a replay of one still ends its family; nobody has to log in again."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.engine import normalize_url
from adapters.sql.mappers import family_to_row, user_to_row
from adapters.sql.migrate import upgrade_database
from adapters.sql.tables import login_attempts, refresh_families, refresh_tokens, users
from domain.sessions.model import RefreshFamily
from domain.sessions.tokens import hash_token
from domain.shared.clock import utcnow
from domain.shared.ids import new_id
from domain.users.model import User
from tests.fixtures.postgres import _create_database, _drop_database, admin_url
from tests.support.crowd import at_once, crowd, statuses
from tests.support.phone import device_id, error_code, refresh
from tests.support.stack import running_stack

BEFORE = "0009_console_sessions"
REUSE_SECONDS = 3.0
BURST = 20


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def before_upgrade(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at the revision before 0010."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
        await upgrade_database(url, BEFORE)
        yield url
        return
    name = f"atelier_mig_{secrets.token_hex(6)}"
    await _create_database(name)
    url = normalize_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_database(url, BEFORE)
        yield url
    finally:
        await _drop_database(name)


class OldSession:
    """A session as the code before sealing left it: tokens are the bare secrets, and every
    token it ever issued has its hash in refresh_tokens."""

    def __init__(self, rotations: int) -> None:
        now = utcnow()
        self.device = device_id()
        self.user = User.new_guest(new_id(), now - timedelta(days=2))
        self.family, token = RefreshFamily.start(
            new_id(), self.user.id, self.device, now - timedelta(days=1), timedelta(days=30))
        self.tokens = [token]
        for hours_ago in range(rotations, 0, -1):
            self.tokens.append(self.family.refresh(
                self.tokens[-1], self.device, now - timedelta(hours=hours_ago), timedelta(0)))

    def rows(self) -> list[dict[str, Any]]:
        return [{"hash": hash_token(token), "family_id": self.family.id, "generation": n,
                 "issued_at": self.family.created_at} for n, token in enumerate(self.tokens)]


async def _issue_old_sessions(url: str, sessions: list[OldSession]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as db:
            for old in sessions:
                await db.execute(insert(users).values(user_to_row(old.user)))
                await db.execute(insert(refresh_families).values(family_to_row(old.family)))
                await db.execute(insert(refresh_tokens), old.rows())
            await db.execute(insert(login_attempts).values(
                email="counting@example.com", source="*", failures=2, locked_until=None))
    finally:
        await engine.dispose()


async def _family(url: str, family_id: str) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as db:
            return (await db.execute(select(refresh_families).where(
                refresh_families.c.id == family_id))).mappings().one()
    finally:
        await engine.dispose()


async def test_tokens_issued_before_the_upgrade_keep_working(
    before_upgrade: str, tmp_path: Path
) -> None:
    url = before_upgrade
    exchanged, replayed, raced = OldSession(2), OldSession(1), OldSession(0)
    await _issue_old_sessions(url, [exchanged, replayed, raced])
    await upgrade_database(url)

    async with running_stack(tmp_path / "data", url,
                             reuse_interval_seconds=REUSE_SECONDS) as stack:
        client = stack.client
        # The current old token is exchanged for a sealed one of the same family, which
        # rotates in its turn.
        first = await refresh(client, exchanged.tokens[-1], exchanged.device)
        assert first.status_code == 200, first.text
        sealed = first.json()["tokens"]["refresh_token"]
        assert sealed.startswith(f"v2.{exchanged.family.id}.3.")
        second = await refresh(client, sealed, exchanged.device)
        assert second.status_code == 200, second.text
        assert second.json()["tokens"]["refresh_token"].startswith(f"v2.{exchanged.family.id}.4.")

        # An older old token is reuse: the family ends, its sealed token with it.
        replay = await refresh(client, replayed.tokens[0], replayed.device)
        assert replay.status_code == 401 and error_code(replay) == "refresh_token_reused"
        current = await refresh(client, replayed.tokens[-1], replayed.device)
        assert current.status_code == 401 and error_code(current) == "session_revoked"

        # Twenty copies of one old token at once, from twenty addresses: one exchange.
        async with crowd(stack.base_url, BURST) as clients:
            answers = await at_once(
                clients, lambda c, n: refresh(c, raced.tokens[0], raced.device))
        assert statuses(answers) == [200] * BURST, [a.text for a in answers]
        (successor,) = {a.json()["tokens"]["refresh_token"] for a in answers}
        assert successor.startswith(f"v2.{raced.family.id}.1.")
        row = await _family(url, raced.family.id)
        assert row["generation"] == 1 and row["revoked_at"] is None
        # Past the reuse interval the old token is a replay and ends the family.
        await asyncio.sleep(REUSE_SECONDS + 0.5)
        late = await refresh(client, raced.tokens[0], raced.device)
        assert late.status_code == 401 and error_code(late) == "refresh_token_reused"
        assert (await refresh(client, successor, raced.device)).status_code == 401
        # An old token on another device fails as before.
        moved = await refresh(client, exchanged.tokens[-1], device_id())
        assert moved.status_code == 401

    engine = create_async_engine(url)
    try:
        async with engine.connect() as db:
            counting = (await db.execute(select(login_attempts))).mappings().one()
            # Nothing was added to the old table by any of these refreshes.
            kept = (await db.execute(select(refresh_tokens.c.hash))).scalars().all()
    finally:
        await engine.dispose()
    assert counting["last_failed_at"] is not None  # it ages from the upgrade on
    assert len(kept) == 3 + 2 + 1
