"""Linked Apple and Google sign-ins mirrored into Cognito: the real adapter over aioboto3,
through a proxy that answers AdminLinkProviderForUser / AdminDisableProviderForUser (moto
5.2.5 has neither) and forwards the rest to the moto server. The request shapes are the
API reference's; the mirror ends on what the database says, however messages race."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import aioboto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from adapters.aws.cognito import CognitoIdentityProvider
from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from application.identity.provider_link_mirror import (
    MIRROR_LINK,
    LinkStillMoving,
    MirrorProviderLink,
    provider_link_mirror,
)
from application.ports.provider_links import LinkRefused
from domain.shared.ids import new_id
from domain.users.identities import LinkedIdentity, Provider
from domain.users.model import User
from tests.contract.test_identity_providers import PASSWORD, create_pool
from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.support.cognito_linking import DISABLE, LINK, CognitoLinks, cognito_linking_proxy

pytestmark = pytest.mark.moto

APPLE_SUB = "001234.0a1b2c3d4e5f.0042"
GOOGLE_SUB = "108230452984372618012"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def proxy(aws: Aws) -> Iterator[CognitoLinks]:
    with cognito_linking_proxy(aws.endpoint_url) as running:
        yield running


@pytest.fixture
async def cognito(aws: Aws, proxy: CognitoLinks) -> AsyncIterator[CognitoIdentityProvider]:
    session = aioboto3.Session(
        aws_access_key_id=DUMMY_KEY, aws_secret_access_key=DUMMY_KEY, region_name=aws.region)
    async with session.client("cognito-idp", region_name=aws.region, endpoint_url=proxy.url,
                              config=Config(retries={"max_attempts": 1})) as client:
        pool_id, client_id, _ = await create_pool(client)
        yield CognitoIdentityProvider(client, pool_id, client_id)


async def login(cognito: CognitoIdentityProvider, email: str = "ada@example.com") -> str:
    subject = await cognito.register(email, PASSWORD)
    await cognito.confirm(email, "123456")  # moto accepts any code
    return subject


async def test_a_link_is_sent_as_the_api_reference_writes_it(
    cognito: CognitoIdentityProvider, proxy: CognitoLinks,
) -> None:
    subject = await login(cognito)
    await cognito.link_provider(subject, Provider.APPLE, APPLE_SUB)
    await cognito.link_provider(subject, Provider.GOOGLE, GOOGLE_SUB)
    [apple, google] = proxy.calls_of(LINK)
    assert apple == {
        "UserPoolId": cognito._user_pool_id,
        "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": subject},
        "SourceUser": {"ProviderName": "SignInWithApple",
                       "ProviderAttributeName": "Cognito_Subject",
                       "ProviderAttributeValue": APPLE_SUB}}
    assert google["SourceUser"]["ProviderName"] == "Google"
    assert proxy.linked() == {("SignInWithApple", APPLE_SUB): subject,
                              ("Google", GOOGLE_SUB): subject}
    # The login still signs in with its password (the rest of the flow is moto's).
    assert await cognito.authenticate("ada@example.com", PASSWORD) == subject


async def test_linking_again_is_fine_and_a_link_held_elsewhere_moves(
    cognito: CognitoIdentityProvider, proxy: CognitoLinks,
) -> None:
    first, second = await login(cognito), await login(cognito, "bob@example.com")
    await cognito.link_provider(first, Provider.APPLE, APPLE_SUB)
    await cognito.link_provider(first, Provider.APPLE, APPLE_SUB)  # an outbox retry
    await cognito.link_provider(second, Provider.APPLE, APPLE_SUB)
    assert proxy.linked() == {("SignInWithApple", APPLE_SUB): second}
    assert len(proxy.calls_of(DISABLE)) == 1  # moved: unlinked from the first, then linked


async def test_unlink_is_admin_disable_provider_and_an_unknown_one_is_fine(
    cognito: CognitoIdentityProvider, proxy: CognitoLinks,
) -> None:
    subject = await login(cognito)
    await cognito.link_provider(subject, Provider.GOOGLE, GOOGLE_SUB)
    await cognito.unlink_provider(Provider.GOOGLE, GOOGLE_SUB)
    await cognito.unlink_provider(Provider.GOOGLE, GOOGLE_SUB)  # never linked now: fine
    assert proxy.calls_of(DISABLE)[0] == {
        "UserPoolId": cognito._user_pool_id,
        "User": {"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                 "ProviderAttributeValue": GOOGLE_SUB}}
    assert proxy.linked() == {}


async def test_a_link_to_a_deleted_login_and_cognito_down_are_errors(
    cognito: CognitoIdentityProvider, proxy: CognitoLinks,
) -> None:
    subject = await login(cognito)
    await cognito.delete_login(subject)  # moto's AdminDeleteUser, through the proxy
    with pytest.raises(LinkRefused):
        await cognito.link_provider(subject, Provider.APPLE, APPLE_SUB)
    # The mirror gives up on it (logged) rather than hold up the clean-ups behind it.
    database = InMemoryDatabase()
    await member_with_apple(database, subject)
    await MirrorProviderLink(InMemoryUnitOfWorkFactory(database), cognito)(
        {"provider": "apple", "subject": APPLE_SUB})
    assert proxy.linked() == {}
    proxy.down = True
    with pytest.raises(ClientError) as down:
        await cognito.unlink_provider(Provider.APPLE, APPLE_SUB)
    assert down.value.response["Error"]["Code"] == "InternalErrorException"


async def test_a_pool_without_the_provider_refuses_for_good(
    cognito: CognitoIdentityProvider, proxy: CognitoLinks,
) -> None:
    subject = await login(cognito)
    proxy.configured = {"SignInWithApple"}
    with pytest.raises(LinkRefused):
        await cognito.link_provider(subject, Provider.GOOGLE, GOOGLE_SUB)
    assert proxy.linked() == {}


# The mirror: what the database says decides, whatever order messages come in.

async def member_with_apple(database: InMemoryDatabase, login_subject: str) -> User:
    factory = InMemoryUnitOfWorkFactory(database)
    user = User.new_member(new_id(), f"{new_id()}@example.com", login_subject, T0)
    async with factory() as uow:
        await uow.users.add(user)
        await uow.identities.add(LinkedIdentity(user.id, Provider.APPLE, APPLE_SUB, None, T0))
        await uow.commit()
    return user


async def test_the_mirror_links_what_the_database_holds_and_unlinks_what_it_does_not(
    cognito: CognitoIdentityProvider, proxy: CognitoLinks,
) -> None:
    database, subject = InMemoryDatabase(), await login(cognito)
    factory = InMemoryUnitOfWorkFactory(database)
    user = await member_with_apple(database, subject)
    deliver = provider_link_mirror(factory, cognito)[MIRROR_LINK]
    message = {"provider": "apple", "subject": APPLE_SUB}
    await deliver(message)
    assert proxy.linked() == {("SignInWithApple", APPLE_SUB): subject}
    async with factory() as uow:
        await uow.identities.delete(user.id, Provider.APPLE)
        await uow.commit()
    await deliver(message)  # the unlink's message
    await deliver(message)  # the link's message, retried late: still unlinked
    assert proxy.linked() == {}


async def test_a_change_made_while_mirroring_is_applied_too(
    cognito: CognitoIdentityProvider, proxy: CognitoLinks,
) -> None:
    database, subject = InMemoryDatabase(), await login(cognito)
    factory = InMemoryUnitOfWorkFactory(database)
    user = await member_with_apple(database, subject)

    class UnlinkedMeanwhile:
        """The real adapter; the member unlinks while the link call is on its way."""

        async def link_provider(self, login: str, provider: Provider, sub: str) -> None:
            async with factory() as uow:
                await uow.identities.delete(user.id, Provider.APPLE)
                await uow.commit()
            await cognito.link_provider(login, provider, sub)

        async def unlink_provider(self, provider: Provider, sub: str) -> None:
            await cognito.unlink_provider(provider, sub)

    await MirrorProviderLink(factory, UnlinkedMeanwhile())(
        {"provider": "apple", "subject": APPLE_SUB})
    assert proxy.linked() == {}
    assert [name for name, _ in proxy.calls] == [LINK, DISABLE]


async def test_an_identity_that_never_settles_is_retried_later(
    cognito: CognitoIdentityProvider,
) -> None:
    database, subject = InMemoryDatabase(), await login(cognito)
    factory = InMemoryUnitOfWorkFactory(database)
    user = await member_with_apple(database, subject)

    class Flapping:
        async def link_provider(self, login: str, provider: Provider, sub: str) -> None:
            async with factory() as uow:
                await uow.identities.delete(user.id, Provider.APPLE)
                await uow.commit()

        async def unlink_provider(self, provider: Provider, sub: str) -> None:
            async with factory() as uow:
                await uow.identities.add(LinkedIdentity(
                    user.id, Provider.APPLE, APPLE_SUB, None, T0 + timedelta(seconds=1)))
                await uow.commit()

    with pytest.raises(LinkStillMoving):
        await MirrorProviderLink(factory, Flapping())({"provider": "apple",
                                                       "subject": APPLE_SUB})
