"""Deleting an Apple member's account revokes the app's authorization at Apple: over HTTP,
on SQLite and PostgreSQL, DELETE /me with a fresh authorization code answers 202 at once
and the clean-up relay revokes the refresh token the code was redeemed for, against a fake
Apple that checks the ES256 client secret; Apple down delays it, never the deletion."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from entrypoints.wiring.background import WakeupEvent
from entrypoints.wiring.di import resolve
from tests.e2e.conftest import StackFactory
from tests.support.fake_apple_tokens import FakeAppleTokens, fake_apple_tokens
from tests.support.fake_id_providers import (
    APPLE_CLIENT_ID,
    FakeIssuer,
    fake_id_providers,
    provider_settings,
)
from tests.support.phone import API, bearer, device_id
from tests.support.stack import Stack

WITHIN = 10.0


@pytest.fixture(scope="module")
def issuers() -> Iterator[tuple[FakeIssuer, FakeIssuer]]:
    with fake_id_providers() as both:
        yield both


@pytest.fixture(scope="module")
def apple_api() -> Iterator[FakeAppleTokens]:
    with fake_apple_tokens(APPLE_CLIENT_ID) as running:
        yield running


@pytest.fixture
async def stack(make_stack: StackFactory, issuers: tuple[FakeIssuer, FakeIssuer],
                apple_api: FakeAppleTokens) -> AsyncIterator[Stack]:
    apple_api.down = False
    async with make_stack(rate_limit_sessions_per_minute=10_000, outbox_poll_seconds=0.2,
                          **provider_settings(*issuers), **apple_api.settings()) as running:
        yield running


async def apple_member(stack: Stack, issuer: FakeIssuer) -> dict[str, str]:
    nonce = secrets.token_urlsafe(16)
    response = await stack.client.post(f"{API}/sessions/apple", json={
        "id_token": issuer.apple(secrets.token_hex(8), nonce), "nonce": nonce,
        "device_id": device_id(), "platform": "ios"})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()["tokens"]
    return tokens


async def eventually(check: Callable[[], bool], stack: Stack) -> bool:
    wakeup: WakeupEvent = await resolve(stack.container.cleanup_wakeup)
    for _ in range(int(WITHIN / 0.1)):
        if check():
            return True
        wakeup.wake()
        await asyncio.sleep(0.1)
    return False


async def delete_with_code(stack: Stack, tokens: dict[str, str], code: str) -> None:
    gone = await stack.client.request("DELETE", f"{API}/me", headers=bearer(tokens),
                                      json={"apple_authorization_code": code})
    assert gone.status_code == 202, gone.text
    assert (await stack.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 401


async def test_deleting_revokes_the_apps_authorization_at_apple(
    stack: Stack, issuers: tuple[FakeIssuer, FakeIssuer], apple_api: FakeAppleTokens,
) -> None:
    tokens, code = await apple_member(stack, issuers[0]), apple_api.issue_code()
    await delete_with_code(stack, tokens, code)
    assert await eventually(
        lambda: (apple_api.codes[code], "refresh_token") in apple_api.revoked_tokens(), stack)
    assert apple_api.refused == []


async def test_apple_down_delays_the_revocation_never_the_deletion(
    stack: Stack, issuers: tuple[FakeIssuer, FakeIssuer], apple_api: FakeAppleTokens,
) -> None:
    tokens, code = await apple_member(stack, issuers[0]), apple_api.issue_code()
    apple_api.down = True
    await delete_with_code(stack, tokens, code)
    await asyncio.sleep(0.5)
    assert apple_api.codes[code] is None  # not redeemed yet
    apple_api.down = False
    assert await eventually(
        lambda: (apple_api.codes[code], "refresh_token") in apple_api.revoked_tokens(), stack)


async def test_a_refused_or_missing_code_still_deletes(
    stack: Stack, issuers: tuple[FakeIssuer, FakeIssuer], apple_api: FakeAppleTokens,
) -> None:
    before = len(apple_api.revoked_tokens())
    await delete_with_code(stack, await apple_member(stack, issuers[0]), "c-never-issued")
    gone = await stack.client.request("DELETE", f"{API}/me",
                                      headers=bearer(await apple_member(stack, issuers[0])))
    assert gone.status_code == 202
    await asyncio.sleep(0.5)
    assert len(apple_api.revoked_tokens()) == before
