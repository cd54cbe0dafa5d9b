"""Deleting an account while Cognito (the identity provider) is down: the rows go at once,
the login goes when the provider is back, exactly once, through the clean-up relay."""

from datetime import UTC, datetime

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWorkFactory
from adapters.memory.object_store import InMemoryObjectStore
from application.identity.account_cleanup import CleanupRelay, account_cleanup
from application.identity.delete_account import DeletedVia, EraseAccount
from application.images.relay_outbox import RelayIncomplete
from domain.users.model import User

NOW = datetime(2026, 6, 1, tzinfo=UTC)


class FlakyProvider:
    """A LoginDeletion that refuses while `down`, and remembers what it deleted."""

    def __init__(self) -> None:
        self.down = True
        self.deleted: list[str] = []

    async def delete_login(self, subject: str) -> None:
        if self.down:
            raise ConnectionError("cognito-idp unreachable")
        self.deleted.append(subject)


class Told:
    def __init__(self) -> None:
        self.ended: list[str] = []
        self.woken = 0

    async def sessions_ended(self, user_id: str, device_id: str | None = None) -> None:
        self.ended.append(user_id)

    def wake(self) -> None:
        self.woken += 1


async def test_the_login_goes_once_when_the_provider_is_back() -> None:
    uow_factory = InMemoryUnitOfWorkFactory(InMemoryDatabase())
    provider, told = FlakyProvider(), Told()
    async with uow_factory() as uow:
        await uow.users.add(User.new_member("u1", "a@example.com", "sub-1", NOW))
        await uow.commit()
    erase = EraseAccount(uow_factory, lambda: NOW, told, provider, told)
    relay = CleanupRelay(uow_factory, account_cleanup(InMemoryObjectStore(), provider),
                         lambda: NOW)

    await erase("u1", DeletedVia.APP)  # the provider is down: it still completes
    async with uow_factory() as uow:
        assert await uow.users.get("u1") is None
        [entry] = await uow.audit.page(10)
    assert told.ended == ["u1"] and told.woken == 1
    assert entry.details == {"kind": "member", "via": "app"} and entry.actor_email is None
    with pytest.raises(RelayIncomplete):
        await relay()
    assert provider.deleted == []

    provider.down = False
    assert await relay() == 1
    assert await relay() == 0
    await erase("u1", DeletedVia.APP)  # again: nothing left to do, nothing fails
    assert await relay() == 0
    assert provider.deleted == ["sub-1"]
