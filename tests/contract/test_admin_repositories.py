"""Admin repositories (audit log, local admins, user search) on memory, SQLite and
PostgreSQL: one contract."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from application.ports.admin import UserQuery
from domain.admins.model import AdminIdentity, AdminSource, AuditEntry, LocalAdmin
from domain.shared.errors import Conflict
from domain.users.model import UserKind, UserStatus
from tests.contract.conftest import T0, RepoBackend, guest, member

ACTOR = AdminIdentity("a1", AdminSource.LOCAL, "root@atelier.test")


def entry(action: str, target: str, minutes: int = 0) -> AuditEntry:
    return AuditEntry.of(ACTOR, action, "user", target, T0 + timedelta(minutes=minutes),
                         "10.0.0.1", reason="test", nested={"a": [1, 2]})


async def test_audit_log_appends_and_pages_newest_first(repo_backend: RepoBackend) -> None:
    async with repo_backend.uow() as uow:
        for i in range(5):
            await uow.audit.append(entry("user.disabled" if i % 2 else "user.enabled", f"u{i}", i))
        await uow.commit()
    async with repo_backend.uow() as uow:
        first = await uow.audit.page(2)
        rest = await uow.audit.page(10, before=first[-1].seq)
        disabled = await uow.audit.page(10, action="user.disabled")
        one = await uow.audit.page(10, target_id="u3")
    assert [e.target_id for e in first + rest] == ["u4", "u3", "u2", "u1", "u0"]
    seqs = [e.seq for e in first + rest]
    assert seqs == sorted(seqs, reverse=True)  # type: ignore[type-var]
    assert [e.target_id for e in disabled] == ["u3", "u1"]
    assert [e.target_id for e in one] == ["u3"]
    got = one[0]
    assert (got.actor, got.actor_email, got.source_ip, got.at) == (
        "local:a1", "root@atelier.test", "10.0.0.1", T0 + timedelta(minutes=3))
    assert got.details == {"reason": "test", "nested": {"a": [1, 2]}}


async def test_audit_entries_vanish_with_a_rollback(repo_backend: RepoBackend) -> None:
    async with repo_backend.uow() as uow:
        await uow.audit.append(entry("user.disabled", "u1"))
    async with repo_backend.uow() as uow:
        assert await uow.audit.page(10) == []


@pytest.mark.parametrize("repo_backend_url", ["sqlite", "postgres"], indirect=True)
async def test_the_database_refuses_to_change_or_remove_audit_entries(
    repo_backend: RepoBackend,
) -> None:
    async with repo_backend.uow() as uow:
        await uow.audit.append(entry("user.disabled", "u1"))
        await uow.commit()
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        async with repo_backend.uow() as uow:
            session = uow._active()  # type: ignore[attr-defined]
            with pytest.raises(Exception, match="append-only"):
                await session.execute(text(statement))
    async with repo_backend.uow() as uow:
        assert [e.actor for e in await uow.audit.page(10)] == ["local:a1"]


async def test_local_admins_by_id_and_email_with_a_unique_email(repo_backend: RepoBackend) -> None:
    admin = LocalAdmin("a1", "root@atelier.test", "$argon2id$hash", T0)
    async with repo_backend.uow() as uow:
        await uow.admins.add(admin)
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.admins.get("a1") == admin
        assert await uow.admins.get_by_email("root@atelier.test") == admin
        assert await uow.admins.get_by_email("other@atelier.test") is None
        with pytest.raises(Conflict):
            await uow.admins.add(LocalAdmin("a2", "root@atelier.test", "h", T0))
        admin.disabled = True
        await uow.admins.update(admin)
        await uow.commit()
    async with repo_backend.uow() as uow:
        found = await uow.admins.get("a1")
    assert found is not None and found.disabled


async def test_user_search_filters_and_pages_by_created_at_then_id(
    repo_backend: RepoBackend,
) -> None:
    guests = [guest() for _ in range(3)]
    for i, user in enumerate(guests):
        user.created_at = T0 + timedelta(seconds=i)
    members = [member(f"ada{i}@example.com") for i in range(2)]
    members[1].disable()
    async with repo_backend.uow() as uow:
        for user in guests + members:
            await uow.users.add(user)
        await uow.commit()
    async with repo_backend.uow() as uow:
        first = await uow.users.search(UserQuery(kind=UserKind.GUEST), 2)
        rest = await uow.users.search(UserQuery(kind=UserKind.GUEST), 2,
                                      after=(first[-1].created_at, first[-1].id))
        ada = await uow.users.search(UserQuery(email="ada"), 10)
        disabled = await uow.users.search(UserQuery(status=UserStatus.DISABLED), 10)
        by_subject = await uow.users.search(UserQuery(user_id=members[0].external_id), 10)
        wildcard = await uow.users.search(UserQuery(email="%"), 10)
    assert [u.id for u in first + rest] == [g.id for g in reversed(guests)]
    assert {u.id for u in ada} == {m.id for m in members}
    assert [u.id for u in disabled] == [members[1].id]
    assert [u.id for u in by_subject] == [members[0].id]
    assert wildcard == []  # LIKE metacharacters are matched literally


async def test_audit_log_filters_by_actor_and_time(repo_backend: RepoBackend) -> None:
    other = AdminIdentity("b2", AdminSource.COGNITO, "bob@atelier.test")
    async with repo_backend.uow() as uow:
        for i in range(4):
            await uow.audit.append(entry("user.disabled", f"u{i}", i * 10))
        await uow.audit.append(AuditEntry.of(other, "image.hidden", "image", "i1",
                                             T0 + timedelta(minutes=5), None))
        await uow.commit()
    async with repo_backend.uow() as uow:
        by_email = await uow.audit.page(10, actor="bob@atelier.test")
        by_actor = await uow.audit.page(10, actor="local:a1")
        window = await uow.audit.page(10, since=T0 + timedelta(minutes=5),
                                      until=T0 + timedelta(minutes=20))
    assert [e.target_id for e in by_email] == ["i1"]
    assert [e.target_id for e in by_actor] == ["u3", "u2", "u1", "u0"]
    assert [e.target_id for e in window] == ["i1", "u1"]  # by seq, newest first
