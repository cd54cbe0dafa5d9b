"""The linked-identity repository, memory and SQL alike: one user per (provider, subject),
one identity per provider and user, and the rows go with their user; an accepted ID token
is held by the first device to use it."""

from datetime import timedelta

import pytest

from domain.shared.errors import Conflict
from domain.users.identities import LinkedIdentity, Provider
from tests.contract.conftest import T0, RepoBackend, member


def linked(user_id: str, provider: Provider, subject: str) -> LinkedIdentity:
    return LinkedIdentity(user_id, provider, subject, None, T0)


async def test_identities_by_provider_subject_and_by_user(repo_backend: RepoBackend) -> None:
    ada, bob = member(), member()
    async with repo_backend.uow() as uow:
        await uow.users.add(ada)
        await uow.users.add(bob)
        await uow.identities.add(LinkedIdentity(
            ada.id, Provider.GOOGLE, "g-1", "ada@gmail.com", T0))
        await uow.identities.add(linked(ada.id, Provider.APPLE, "a-1"))
        await uow.commit()
    async with repo_backend.uow() as uow:
        found = await uow.identities.get(Provider.GOOGLE, "g-1")
        assert found == LinkedIdentity(ada.id, Provider.GOOGLE, "g-1", "ada@gmail.com", T0)
        assert await uow.identities.get(Provider.APPLE, "g-1") is None
        assert [i.provider for i in await uow.identities.for_user(ada.id)] == [
            Provider.APPLE, Provider.GOOGLE]
        assert await uow.identities.for_user(bob.id) == []
        # Someone else's subject, or a second Google account for Ada: refused.
        with pytest.raises(Conflict):
            await uow.identities.add(linked(bob.id, Provider.GOOGLE, "g-1"))
        with pytest.raises(Conflict):
            await uow.identities.add(linked(ada.id, Provider.GOOGLE, "g-2"))
        # The unit of work is still usable after the refusals.
        await uow.identities.delete(ada.id, Provider.APPLE)
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert [i.provider for i in await uow.identities.for_user(ada.id)] == [Provider.GOOGLE]
        await uow.users.delete(ada.id)
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.identities.get(Provider.GOOGLE, "g-1") is None


async def test_an_id_token_is_held_by_the_first_device_to_use_it(
    repo_backend: RepoBackend
) -> None:
    expires = T0 + timedelta(minutes=10)
    async with repo_backend.uow() as uow:
        assert await uow.id_token_uses.bind(Provider.APPLE, "d" * 64, "phone", expires) == (
            "phone")
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.id_token_uses.bind(Provider.APPLE, "d" * 64, "thief", expires) == (
            "phone")
        assert await uow.id_token_uses.bind(Provider.APPLE, "d" * 64, "phone", expires) == (
            "phone")
        # Another provider's token with the same digest is another token.
        assert await uow.id_token_uses.bind(Provider.GOOGLE, "d" * 64, "tablet", expires) == (
            "tablet")
        await uow.commit()
    async with repo_backend.uow() as uow:  # a binding left uncommitted is gone
        assert await uow.id_token_uses.bind(Provider.APPLE, "e" * 64, "thief", expires) == (
            "thief")
    async with repo_backend.uow() as uow:
        assert await uow.id_token_uses.bind(Provider.APPLE, "e" * 64, "phone", expires) == (
            "phone")
