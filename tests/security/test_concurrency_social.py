"""Twenty first sign-ins with the same new Apple or Google account at once, each from its
own address, on SQLite and PostgreSQL: exactly one user is made, and every request signs in
as that user (the losers of the race find the winner's user: 200, never 500). And one
stolen ID token sent from twenty devices at once signs in exactly one of them."""

import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from sqlalchemy import Table, func, select

from adapters.sql.tables import id_token_uses, identities, users
from tests.support.crowd import at_once, crowd, statuses
from tests.support.fake_id_providers import FakeIssuer, fake_id_providers, provider_settings
from tests.support.phone import API, device_id
from tests.support.stack import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
BURST = 20


@pytest.fixture(scope="module")
def issuers() -> Iterator[tuple[FakeIssuer, FakeIssuer]]:
    with fake_id_providers() as both:
        yield both


def first_sign_in(
    provider: str, issuer: FakeIssuer, subject: str, email: str | None
) -> Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]:
    async def send(client: httpx.AsyncClient, n: int) -> httpx.Response:
        nonce = secrets.token_urlsafe(16)  # each phone its own token
        body = {"device_id": device_id(), "platform": "ios"}
        if provider == "apple":
            body.update(id_token=issuer.apple(subject, nonce, email), nonce=nonce)
        else:
            body.update(id_token=issuer.google(subject, email, nonce=nonce), nonce=nonce)
        return await client.post(f"{API}/sessions/{provider}", json=body)
    return send


async def count(stack: Stack, table: Table) -> int:
    async with (await stack.engine()).connect() as connection:
        found = await connection.scalar(select(func.count()).select_from(table))
    return int(found or 0)


@pytest.mark.parametrize(("provider", "email"), [
    ("apple", "q8x2@privaterelay.appleid.com"), ("apple", None),
    ("google", "lin@example.com"), ("google", None),
], ids=["apple-relay", "apple-no-email", "google-email", "google-no-email"])
async def test_concurrent_first_sign_ins_make_one_user(
    make_any_stack: StackFactory, issuers: tuple[FakeIssuer, FakeIssuer], provider: str,
    email: str | None,
) -> None:
    apple, google = issuers
    issuer = apple if provider == "apple" else google
    subject = secrets.token_hex(12)
    async with make_any_stack(**provider_settings(apple, google)) as stack:
        async with crowd(stack.base_url, BURST) as clients:
            answers = await at_once(clients, first_sign_in(provider, issuer, subject, email))
        refused = [a.text for a in answers if a.status_code != 200]
        assert statuses(answers) == [200] * BURST, refused
        assert len({a.json()["user"]["id"] for a in answers}) == 1
        assert (await count(stack, users), await count(stack, identities)) == (1, 1)


@pytest.mark.parametrize("provider", ["apple", "google"])
async def test_one_token_from_twenty_devices_at_once_admits_one_device(
    make_any_stack: StackFactory, issuers: tuple[FakeIssuer, FakeIssuer], provider: str
) -> None:
    apple, google = issuers
    nonce, subject = secrets.token_urlsafe(16), secrets.token_hex(12)
    token = (apple.apple(subject, nonce) if provider == "apple"
             else google.google(subject, nonce=nonce))

    async def replay(client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.post(f"{API}/sessions/{provider}", json={
            "id_token": token, "nonce": nonce, "device_id": device_id(), "platform": "ios"})

    async with make_any_stack(**provider_settings(apple, google)) as stack:
        async with crowd(stack.base_url, BURST) as clients:
            answers = await at_once(clients, replay)
        assert statuses(answers).count(200) == 1, [a.text for a in answers]
        assert {a.json()["error"]["code"] for a in answers if a.status_code != 200} == {
            "token_replayed"}
        assert (await count(stack, users), await count(stack, id_token_uses)) == (1, 1)


async def test_concurrent_unlinks_never_remove_the_last_way_in(
    make_any_stack: StackFactory, issuers: tuple[FakeIssuer, FakeIssuer]
) -> None:
    apple, google = issuers
    async with make_any_stack(**provider_settings(apple, google)) as stack:
        first = await stack.client.post(f"{API}/sessions/google", json={
            "id_token": google.google(secrets.token_hex(12)), "device_id": device_id(),
            "platform": "android"})
        assert first.status_code == 200, first.text
        headers = {"Authorization": f"Bearer {first.json()['tokens']['access_token']}"}
        nonce = secrets.token_urlsafe(16)
        linked = await stack.client.post(f"{API}/me/identities", headers=headers, json={
            "provider": "apple", "id_token": apple.apple(secrets.token_hex(12), nonce),
            "nonce": nonce})
        assert linked.status_code == 200, linked.text

        async def unlink(client: httpx.AsyncClient, n: int) -> httpx.Response:
            provider = ("apple", "google")[n % 2]
            return await client.delete(f"{API}/me/identities/{provider}", headers=headers)

        async with crowd(stack.base_url, BURST) as clients:
            answers = await at_once(clients, unlink)
        assert statuses(answers).count(204) == 1, [a.text for a in answers]
        assert {a.json()["error"]["code"] for a in answers if a.status_code != 204} <= {
            "last_sign_in_method", "not_found"}
        assert await count(stack, identities) == 1
