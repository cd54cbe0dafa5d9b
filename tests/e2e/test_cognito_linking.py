"""With Cognito as the identity provider, a password member's linked Apple and Google
sign-ins are mirrored into the user pool: over HTTP, on SQLite and PostgreSQL, the mobile
API's clean-up relay calls AdminLinkProviderForUser on link and AdminDisableProviderForUser
on unlink and on account deletion (then AdminDeleteUser). Cognito is moto behind a proxy
that answers the two linking operations moto lacks; when it is down, the API answers as
usual, the database keeps the user's choice, and the pool catches up once it is back."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from entrypoints.wiring.background import WakeupEvent
from entrypoints.wiring.di import resolve
from tests.contract.test_identity_providers import create_pool
from tests.e2e.conftest import StackFactory
from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.support.cognito_linking import DISABLE, LINK, CognitoLinks, cognito_linking_proxy
from tests.support.fake_id_providers import FakeIssuer, fake_id_providers, provider_settings
from tests.support.phone import API, bearer, device_id, login, register
from tests.support.stack import Stack

pytestmark = pytest.mark.moto

PASSWORD = "Correct-Horse-9-battery"  # meets the pool's default policy
WITHIN = 15.0


@pytest.fixture(scope="module")
def issuers() -> Iterator[tuple[FakeIssuer, FakeIssuer]]:
    with fake_id_providers() as both:
        yield both


@pytest.fixture
def proxy(aws: Aws) -> Iterator[CognitoLinks]:
    with cognito_linking_proxy(aws.endpoint_url) as running:
        yield running


@pytest.fixture
async def stack(
    make_stack: StackFactory, aws: Aws, proxy: CognitoLinks,
    issuers: tuple[FakeIssuer, FakeIssuer], monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Stack]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
    async with aws.client("cognito-idp") as cognito:
        pool_id, client_id, _ = await create_pool(cognito)
    async with make_stack(
        identity_provider="cognito", cognito_user_pool_id=pool_id, cognito_client_id=client_id,
        aws_endpoint_url=proxy.url, aws_region=aws.region, outbox_poll_seconds=0.2,
        rate_limit_sessions_per_minute=10_000, **provider_settings(*issuers),
    ) as running:
        yield running


async def eventually(check: Callable[[], bool | Awaitable[bool]], stack: Stack) -> bool:
    wakeup: WakeupEvent = await resolve(stack.container.cleanup_wakeup)
    for _ in range(int(WITHIN / 0.1)):
        found = check()
        if found if isinstance(found, bool) else await found:
            return True
        wakeup.wake()
        await asyncio.sleep(0.1)
    return False


async def cognito_member(stack: Stack, email: str) -> dict[str, Any]:
    assert (await register(stack.client, email, PASSWORD, device_id())).status_code == 201
    confirmed = await stack.client.post(f"{API}/accounts/confirm", json={
        "email": email, "code": "123456"})  # moto accepts any code
    assert confirmed.status_code == 200, confirmed.text
    response = await login(stack.client, email, PASSWORD, device_id())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def link(stack: Stack, tokens: dict[str, Any], provider: str, id_token: str,
               nonce: str | None = None) -> None:
    body = {"provider": provider, "id_token": id_token, **({"nonce": nonce} if nonce else {})}
    response = await stack.client.post(f"{API}/me/identities", headers=bearer(tokens),
                                       json=body)
    assert response.status_code == 200, response.text


async def login_subject(aws: Aws, stack: Stack, email: str) -> str | None:
    async with aws.client("cognito-idp") as cognito:
        try:
            found = await cognito.admin_get_user(
                UserPoolId=stack.settings.cognito_user_pool_id, Username=email)
        except cognito.exceptions.UserNotFoundException:
            return None
    return next(a["Value"] for a in found["UserAttributes"] if a["Name"] == "sub")


async def test_link_unlink_and_delete_reach_the_user_pool(
    stack: Stack, aws: Aws, proxy: CognitoLinks, issuers: tuple[FakeIssuer, FakeIssuer],
) -> None:
    apple, google = issuers
    email = f"pat-{secrets.token_hex(4)}@example.com"
    session = await cognito_member(stack, email)
    tokens, subject = session["tokens"], await login_subject(aws, stack, email)
    apple_sub, google_sub, nonce = secrets.token_hex(8), secrets.token_hex(8), "n-" + email

    await link(stack, tokens, "apple", apple.apple(apple_sub, nonce), nonce)
    assert await eventually(lambda: proxy.linked() == {
        ("SignInWithApple", apple_sub): subject}, stack), proxy.calls
    assert proxy.calls_of(LINK)[0]["DestinationUser"] == {
        "ProviderName": "Cognito", "ProviderAttributeValue": subject}

    await link(stack, tokens, "google", google.google(google_sub, email))
    assert await eventually(lambda: len(proxy.linked()) == 2, stack)
    gone = await stack.client.delete(f"{API}/me/identities/google", headers=bearer(tokens))
    assert gone.status_code == 204
    assert await eventually(lambda: proxy.linked() == {
        ("SignInWithApple", apple_sub): subject}, stack)
    assert proxy.calls_of(DISABLE)[-1]["User"] == {
        "ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
        "ProviderAttributeValue": google_sub}

    deleted = await stack.client.request("DELETE", f"{API}/me", headers=bearer(tokens),
                                         json={"password": PASSWORD})
    assert deleted.status_code == 202, deleted.text

    async def pool_forgot_them() -> bool:
        return proxy.linked() == {} and await login_subject(aws, stack, email) is None

    assert await eventually(pool_forgot_them, stack), proxy.calls


async def test_cognito_down_loses_nothing_and_the_pool_catches_up(
    stack: Stack, aws: Aws, proxy: CognitoLinks, issuers: tuple[FakeIssuer, FakeIssuer],
) -> None:
    _, google = issuers
    email = f"kim-{secrets.token_hex(4)}@example.com"
    tokens = (await cognito_member(stack, email))["tokens"]
    subject, google_sub = await login_subject(aws, stack, email), secrets.token_hex(8)

    proxy.down = True
    await link(stack, tokens, "google", google.google(google_sub, email))
    listed = await stack.client.get(f"{API}/me/identities", headers=bearer(tokens))
    assert [i["provider"] for i in listed.json()["identities"]] == ["google"]
    assert await eventually(lambda: len(proxy.calls_of(LINK)) >= 2, stack)  # retried
    assert proxy.linked() == {}
    proxy.down = False
    assert await eventually(lambda: proxy.linked() == {("Google", google_sub): subject},
                            stack)

    proxy.down = True
    gone = await stack.client.delete(f"{API}/me/identities/google", headers=bearer(tokens))
    assert gone.status_code == 204
    await asyncio.sleep(0.5)
    assert proxy.linked() == {("Google", google_sub): subject}  # not yet: Cognito is down
    proxy.down = False
    assert await eventually(lambda: proxy.linked() == {}, stack)
