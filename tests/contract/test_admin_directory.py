"""One admin-directory contract for the in-memory directory and Cognito (moto server): an
admin is a login that exists, is enabled and is in the admins group, asked by its `sub`."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.aws.cognito_admins import CognitoAdminDirectory
from adapters.memory.admin_directory import InMemoryAdminDirectory
from application.ports.admin_directory import AdminDirectory
from tests.fixtures.aws import Aws

GROUP = "admins"


@dataclass
class Harness:
    directory: AdminDirectory
    create: Callable[[str], Awaitable[str]]
    """e-mail -> the new login's `sub`, in the admins group."""
    remove_from_group: Callable[[str], Awaitable[None]]
    disable: Callable[[str], Awaitable[None]]
    delete: Callable[[str], Awaitable[None]]


@pytest.fixture(params=["memory", pytest.param("cognito", marks=pytest.mark.moto)])
async def h(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        memory = InMemoryAdminDirectory()

        async def create_memory(email: str) -> str:
            memory.admins.add(email)
            return email

        async def drop(subject: str) -> None:
            memory.admins.discard(subject)

        yield Harness(memory, create_memory, drop, drop, drop)
        return
    aws: Aws = request.getfixturevalue("aws")
    async with aws.client("cognito-idp") as cognito:
        pool_id = (await cognito.create_user_pool(
            PoolName="atelier-admins", UsernameAttributes=["email"]))["UserPool"]["Id"]
        await cognito.create_group(UserPoolId=pool_id, GroupName=GROUP)
        await cognito.create_group(UserPoolId=pool_id, GroupName="editors")

        async def create(email: str) -> str:
            user: Any = (await cognito.admin_create_user(
                UserPoolId=pool_id, Username=email,
                UserAttributes=[{"Name": "email", "Value": email}]))["User"]
            sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
            for group in ("editors", GROUP):
                await cognito.admin_add_user_to_group(
                    UserPoolId=pool_id, Username=sub, GroupName=group)
            return str(sub)

        async def remove(subject: str) -> None:
            await cognito.admin_remove_user_from_group(
                UserPoolId=pool_id, Username=subject, GroupName=GROUP)

        async def disable(subject: str) -> None:
            await cognito.admin_disable_user(UserPoolId=pool_id, Username=subject)

        async def delete(subject: str) -> None:
            await cognito.admin_delete_user(UserPoolId=pool_id, Username=subject)

        yield Harness(CognitoAdminDirectory(cognito, pool_id, GROUP), create, remove, disable,
                      delete)


async def test_an_admin_is_one_until_removed_from_the_group(h: Harness) -> None:
    ada, bob = await h.create("ada@atelier.test"), await h.create("bob@atelier.test")
    assert await h.directory.is_admin(ada) and await h.directory.is_admin(bob)
    await h.remove_from_group(ada)
    assert not await h.directory.is_admin(ada)
    assert await h.directory.is_admin(bob)


async def test_a_disabled_or_deleted_login_is_no_admin(h: Harness) -> None:
    ada, bob = await h.create("ada@atelier.test"), await h.create("bob@atelier.test")
    await h.disable(ada)
    await h.delete(bob)
    assert not await h.directory.is_admin(ada)
    assert not await h.directory.is_admin(bob)


async def test_an_unknown_subject_is_no_admin(h: Harness) -> None:
    assert not await h.directory.is_admin("6b1c1a1e-0000-4000-8000-000000000000")
