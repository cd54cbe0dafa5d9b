"""The credential store's reset and e-mail-change codes behave the same in memory, on SQLite
and on PostgreSQL: one row per login and purpose, replaced in place; attempts counted up
to the cap and not past it, nor past the expiry; single use; a login moved to a free
address only."""

from datetime import timedelta

import pytest

from adapters.local.credentials import LocalCode, LocalCredential
from domain.shared.errors import NotFound
from domain.users.model import EmailInUse
from tests.contract.conftest import T0, RepoBackend

DAY = timedelta(days=1)


def code(
    subject: str = "sub-1", code_hash: str = "h1", new_email: str | None = None,
    sent_in_window: int = 1,
) -> LocalCode:
    return LocalCode(subject, "reset", code_hash, new_email, expires_at=T0 + DAY,
                     sent_at=T0, window_started_at=T0, sent_in_window=sent_in_window)


async def test_a_saved_code_replaces_the_previous_one(repo_backend: RepoBackend) -> None:
    store = repo_backend.credentials
    assert await store.get_code("sub-1", "reset") is None
    await store.save_code(code(code_hash="h1"))
    await store.save_code(code(code_hash="h2", new_email="new@example.com", sent_in_window=2))
    stored = await store.get_code("sub-1", "reset")
    assert stored == code(code_hash="h2", new_email="new@example.com", sent_in_window=2)
    assert await store.get_code("sub-1", "email") is None


async def test_attempts_stop_at_the_cap_and_at_the_expiry(repo_backend: RepoBackend) -> None:
    store = repo_backend.credentials
    await store.save_code(code())
    taken = [await store.take_lifecycle_attempt("sub-1", "reset", T0, 5) for _ in range(7)]
    assert [t.attempts if t else None for t in taken] == [1, 2, 3, 4, 5, None, None]
    await store.save_code(code(subject="sub-2"))
    assert await store.take_lifecycle_attempt("sub-2", "reset", T0 + DAY, 5) is None
    assert await store.take_lifecycle_attempt("nobody", "reset", T0, 5) is None


async def test_a_code_is_spent_once(repo_backend: RepoBackend) -> None:
    store = repo_backend.credentials
    await store.save_code(code())
    assert not await store.spend_code("sub-1", "reset", "another")
    assert await store.spend_code("sub-1", "reset", "h1")
    assert not await store.spend_code("sub-1", "reset", "h1")
    spent = await store.get_code("sub-1", "reset")
    assert spent is not None and spent.code_hash is None and spent.sent_in_window == 1
    assert await store.take_lifecycle_attempt("sub-1", "reset", T0, 5) is None


async def test_a_login_moves_only_to_a_free_address(repo_backend: RepoBackend) -> None:
    store = repo_backend.credentials
    await store.add(LocalCredential("ada@example.com", "sub-1", "hash", T0, confirmed=True))
    await store.add(LocalCredential("bob@example.com", "sub-2", "hash", T0, confirmed=True))
    with pytest.raises(EmailInUse):
        await store.change_email("ada@example.com", "bob@example.com")
    await store.change_email("ada@example.com", "ada@new.example.com")
    moved = await store.get("ada@new.example.com")
    assert moved is not None and moved.subject == "sub-1"
    assert await store.get("ada@example.com") is None
    with pytest.raises(NotFound):
        await store.change_email("ghost@example.com", "ghost2@example.com")
