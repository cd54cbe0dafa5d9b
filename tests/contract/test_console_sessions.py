"""Web console sessions on memory, SQLite and PostgreSQL: one contract."""

from datetime import timedelta

from domain.admins.console_session import ConsoleSession, ConsoleSessionLimits
from domain.admins.model import AdminIdentity, AdminSource
from tests.contract.conftest import T0, RepoBackend

ADA = AdminIdentity("a1", AdminSource.LOCAL, "ada@atelier.test")
BOB = AdminIdentity("b2", AdminSource.COGNITO, None)
LIMITS = ConsoleSessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


async def _add(backend: RepoBackend, *sessions: ConsoleSession) -> None:
    async with backend.uow() as uow:
        for session in sessions:
            await uow.console_sessions.add(session)
        await uow.commit()


async def test_a_session_reads_back_as_stored(repo_backend: RepoBackend) -> None:
    await _add(repo_backend, ConsoleSession.start("h1", ADA, T0, LIMITS),
               ConsoleSession.start("h2", BOB, T0, LIMITS))
    async with repo_backend.uow() as uow:
        ada, bob = await uow.console_sessions.get("h1"), await uow.console_sessions.get("h2")
        assert await uow.console_sessions.get("nope") is None
    assert ada == ConsoleSession("h1", ADA, T0, T0, T0 + timedelta(hours=12))
    assert bob is not None and bob.admin == BOB


async def test_touch_moves_last_seen_forward_only(repo_backend: RepoBackend) -> None:
    await _add(repo_backend, ConsoleSession.start("h1", ADA, T0, LIMITS))
    async with repo_backend.uow() as uow:
        await uow.console_sessions.touch("h1", T0 + timedelta(minutes=10))
        await uow.console_sessions.touch("h1", T0 + timedelta(minutes=5))
        await uow.console_sessions.touch("absent", T0)
        await uow.commit()
    async with repo_backend.uow() as uow:
        session = await uow.console_sessions.get("h1")
    assert session is not None and session.last_seen_at == T0 + timedelta(minutes=10)


async def test_sign_out_and_ending_an_admins_sessions(repo_backend: RepoBackend) -> None:
    await _add(repo_backend, *(ConsoleSession.start(f"a{i}", ADA, T0, LIMITS) for i in range(3)),
               ConsoleSession.start("b", BOB, T0, LIMITS))
    async with repo_backend.uow() as uow:
        assert await uow.console_sessions.delete("a0") is True
        assert await uow.console_sessions.delete("a0") is False
        assert await uow.console_sessions.delete_for_admin("a1") == 2
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.console_sessions.get("a1") is None
        assert await uow.console_sessions.get("b") is not None


async def test_expired_and_idle_sessions_are_purged(repo_backend: RepoBackend) -> None:
    old = ConsoleSession.start("old", ADA, T0 - timedelta(hours=13), LIMITS)
    idle = ConsoleSession.start("idle", ADA, T0 - timedelta(hours=1), LIMITS)
    fresh = ConsoleSession.start("fresh", BOB, T0 - timedelta(hours=1), LIMITS)
    fresh.last_seen_at = T0 - timedelta(minutes=1)
    await _add(repo_backend, old, idle, fresh)
    async with repo_backend.uow() as uow:
        assert await uow.console_sessions.delete_expired(T0, T0 - LIMITS.idle) == 2
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.console_sessions.get("fresh") is not None
        assert await uow.console_sessions.get("idle") is None


async def test_an_uncommitted_sign_in_is_gone(repo_backend: RepoBackend) -> None:
    async with repo_backend.uow() as uow:
        await uow.console_sessions.add(ConsoleSession.start("h1", ADA, T0, LIMITS))
    async with repo_backend.uow() as uow:
        assert await uow.console_sessions.get("h1") is None


def test_a_session_lives_until_idle_or_absolute_limit() -> None:
    session = ConsoleSession.start("h", ADA, T0, LIMITS)
    assert session.live(T0 + timedelta(minutes=29), LIMITS)
    assert not session.live(T0 + timedelta(minutes=30), LIMITS)
    session.last_seen_at = T0 + timedelta(hours=11, minutes=59)
    assert session.live(T0 + timedelta(hours=11, minutes=59, seconds=30), LIMITS)
    assert not session.live(T0 + timedelta(hours=12), LIMITS)
