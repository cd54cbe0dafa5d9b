"""A Cognito admin's console session ends once the user pool no longer has them as an admin
(removed from the admins group, disabled, deleted), found out within five minutes: the pool
is the moto server's, the sessions in memory, time a fake clock."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.aws.cognito_admins import CognitoAdminDirectory
from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from application.admin.acting import Acting
from application.admin.console_sessions import (
    ConsoleSessionEnded,
    ResumeConsoleSession,
    StartConsoleSession,
)
from domain.admins.console_session import ConsoleSessionLimits
from domain.admins.model import AdminIdentity, AdminSource
from tests.fixtures.aws import Aws

pytestmark = pytest.mark.moto

LIMITS = ConsoleSessionLimits(idle=timedelta(hours=1), absolute=timedelta(hours=12))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Pool:
    cognito: Any
    pool_id: str
    clock: Clock
    uow: InMemoryUnitOfWorkFactory
    start: StartConsoleSession
    resume: ResumeConsoleSession

    async def admin(self, email: str) -> AdminIdentity:
        user = (await self.cognito.admin_create_user(
            UserPoolId=self.pool_id, Username=email,
            UserAttributes=[{"Name": "email", "Value": email}]))["User"]
        sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        await self.cognito.admin_add_user_to_group(
            UserPoolId=self.pool_id, Username=sub, GroupName="admins")
        return AdminIdentity(sub, AdminSource.COGNITO, email)

    async def remove_from_admins(self, admin: AdminIdentity) -> None:
        await self.cognito.admin_remove_user_from_group(
            UserPoolId=self.pool_id, Username=admin.subject, GroupName="admins")


@pytest.fixture
async def pool(aws: Aws) -> AsyncIterator[Pool]:
    async with aws.client("cognito-idp") as cognito:
        pool_id = (await cognito.create_user_pool(
            PoolName="atelier", UsernameAttributes=["email"]))["UserPool"]["Id"]
        await cognito.create_group(UserPoolId=pool_id, GroupName="admins")
        clock, uow = Clock(), InMemoryUnitOfWorkFactory(InMemoryDatabase())
        yield Pool(cognito, pool_id, clock, uow, StartConsoleSession(uow, clock, LIMITS),
                   ResumeConsoleSession(uow, clock, LIMITS,
                                        CognitoAdminDirectory(cognito, pool_id, "admins")))


async def test_an_admin_removed_from_the_group_is_signed_out_within_five_minutes(
    pool: Pool,
) -> None:
    ada, bob = await pool.admin("ada@atelier.test"), await pool.admin("bob@atelier.test")
    ada_session = await pool.start(Acting(ada))
    bob_session = await pool.start(Acting(bob))
    assert await pool.resume(ada_session) == ada
    assert await pool.resume(bob_session) == bob

    await pool.remove_from_admins(ada)
    pool.clock.now += timedelta(minutes=4)
    assert await pool.resume(ada_session) == ada  # checked under five minutes ago
    pool.clock.now += timedelta(minutes=1, seconds=1)
    with pytest.raises(ConsoleSessionEnded):
        await pool.resume(ada_session)
    assert await pool.resume(bob_session) == bob

    # The session is gone for good: back in the group, the old cookie still signs nobody in.
    await pool.cognito.admin_add_user_to_group(
        UserPoolId=pool.pool_id, Username=ada.subject, GroupName="admins")
    with pytest.raises(ConsoleSessionEnded):
        await pool.resume(ada_session)


async def test_a_disabled_or_deleted_admin_is_signed_out(pool: Pool) -> None:
    ada, bob = await pool.admin("ada@atelier.test"), await pool.admin("bob@atelier.test")
    sessions = [await pool.start(Acting(ada)), await pool.start(Acting(ada)),
                await pool.start(Acting(bob))]
    await pool.cognito.admin_disable_user(UserPoolId=pool.pool_id, Username=ada.subject)
    await pool.cognito.admin_delete_user(UserPoolId=pool.pool_id, Username=bob.subject)
    for session in sessions:
        with pytest.raises(ConsoleSessionEnded):
            await pool.resume(session)


async def test_an_unreachable_pool_keeps_the_session_and_asks_again_next_time(
    pool: Pool,
) -> None:
    ada = await pool.admin("ada@atelier.test")
    session = await pool.start(Acting(ada))
    directory = CognitoAdminDirectory(pool.cognito, pool.pool_id, "admins")

    class SometimesDown:
        down = True

        async def is_admin(self, subject: str) -> bool:
            if self.down:
                raise ConnectionError("user pool unreachable")
            return await directory.is_admin(subject)

    flaky = SometimesDown()
    resume = ResumeConsoleSession(pool.uow, pool.clock, LIMITS, flaky)
    assert await resume(session) == ada  # kept while the pool cannot be asked
    await pool.remove_from_admins(ada)
    flaky.down = False
    with pytest.raises(ConsoleSessionEnded):  # the failed ask confirmed nothing
        await resume(session)
