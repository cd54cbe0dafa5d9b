"""Sign in with Apple and Google over HTTP, on SQLite and PostgreSQL, against fake issuers
with their own keys and JWKS on loopback: a new member, the same member next time (Apple
sends the address only once), a guest upgraded in place, an address a password member holds,
linking after a password log-in, unlinking but never the last way in; and every forged,
expired or misaddressed token refused with 401 invalid_token, and a token replayed from
another device than the one it was first used from with 401 token_replayed."""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from adapters.sql.tables import id_token_uses, identities, users
from tests.e2e.conftest import StackFactory
from tests.support.fake_id_providers import (
    FakeIssuer,
    fake_id_providers,
    new_rsa_key,
    provider_settings,
    sha256_hex,
)
from tests.support.phone import API, bearer, device_id, error_code, login, new_guest, register
from tests.support.stack import Stack

PASSWORD = "correct horse battery staple"
RELAY = "x7fq2kd9@privaterelay.appleid.com"


@pytest.fixture(scope="module")
def issuers() -> Iterator[tuple[FakeIssuer, FakeIssuer]]:
    with fake_id_providers() as both:
        yield both


@pytest.fixture
def apple(issuers: tuple[FakeIssuer, FakeIssuer]) -> FakeIssuer:
    return issuers[0]


@pytest.fixture
def google(issuers: tuple[FakeIssuer, FakeIssuer]) -> FakeIssuer:
    return issuers[1]


@pytest.fixture
async def stack(
    make_stack: StackFactory, apple: FakeIssuer, google: FakeIssuer
) -> AsyncIterator[Stack]:
    async with make_stack(rate_limit_sessions_per_minute=10_000, **provider_settings(
            apple, google)) as running:
        yield running


def subject() -> str:
    return f"{secrets.randbelow(10**6):06d}.{secrets.token_hex(16)}.{secrets.randbelow(9999)}"


def fresh_email(name: str = "ada") -> str:
    return f"{name}-{secrets.token_hex(4)}@example.com"


async def sign_in(
    client: httpx.AsyncClient, provider: str, id_token: str, nonce: str | None = None,
    device: str | None = None, headers: dict[str, str] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"id_token": id_token, "device_id": device or device_id(),
                            "platform": "ios"}
    if nonce is not None:
        body["nonce"] = nonce
    return await client.post(f"{API}/sessions/{provider}", json=body, headers=headers or {})


async def apple_sign_in(stack: Stack, apple: FakeIssuer, sub: str, email: str | None = None,
                        **claims: Any) -> httpx.Response:
    nonce = secrets.token_urlsafe(16)
    return await sign_in(stack.client, "apple", apple.apple(sub, nonce, email, **claims), nonce)


async def member(stack: Stack, email: str) -> dict[str, Any]:
    """A confirmed password member, logged in."""
    assert (await register(stack.client, email, PASSWORD, device_id())).status_code == 201
    confirmed = await stack.client.post(f"{API}/accounts/confirm", json={
        "email": email, "code": stack.confirmation_code(email)})
    assert confirmed.status_code == 200, confirmed.text
    response = await login(stack.client, email, PASSWORD, device_id())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def count(stack: Stack, table: Any, *where: Any) -> int:
    async with (await stack.engine()).connect() as connection:
        found = await connection.scalar(select(func.count()).select_from(table).where(*where))
    return int(found or 0)


async def test_apple_first_sign_in_makes_a_member_and_the_next_finds_it(
    stack: Stack, apple: FakeIssuer
) -> None:
    sub = subject()
    first = await apple_sign_in(stack, apple, sub, RELAY)
    assert first.status_code == 200, first.text
    user = first.json()["user"]
    assert (user["kind"], user["email"], user["email_confirmed"]) == ("member", RELAY, True)
    me = await stack.client.get(f"{API}/me", headers=bearer(first.json()["tokens"]))
    assert me.json()["id"] == user["id"]

    # Later sign-ins carry no address: the same member, from another device too.
    again = await apple_sign_in(stack, apple, sub)
    assert again.status_code == 200, again.text
    assert again.json()["user"]["id"] == user["id"]
    assert again.json()["user"]["email"] == RELAY
    linked = await stack.client.get(f"{API}/me/identities",
                                    headers=bearer(again.json()["tokens"]))
    assert [(i["provider"], i["email"]) for i in linked.json()["identities"]] == [
        ("apple", RELAY)]


async def test_apple_without_any_address_is_still_a_member(
    stack: Stack, apple: FakeIssuer
) -> None:
    response = await apple_sign_in(stack, apple, subject())
    assert response.status_code == 200, response.text
    assert (response.json()["user"]["kind"], response.json()["user"]["email"]) == (
        "member", None)


async def test_google_uses_the_address_only_when_verified(
    stack: Stack, google: FakeIssuer
) -> None:
    email, sub = fresh_email("grace"), subject()
    unverified = await sign_in(stack.client, "google", google.google(sub, email, verified=False))
    assert unverified.status_code == 200, unverified.text
    assert unverified.json()["user"]["email"] is None
    # The address someone cannot prove stays free for its owner.
    verified = await sign_in(stack.client, "google", google.google(subject(), email))
    assert verified.status_code == 200, verified.text
    assert verified.json()["user"]["email"] == email
    assert verified.json()["user"]["id"] != unverified.json()["user"]["id"]


async def test_a_guest_is_upgraded_in_place_with_its_images(
    stack: Stack, google: FakeIssuer
) -> None:
    guest = await new_guest(stack.client)
    guest_id = guest["user"]["id"]
    await stack.insert_image(guest_id)
    email = fresh_email("guest")
    response = await sign_in(stack.client, "google", google.google(subject(), email),
                             headers=bearer(guest["tokens"]))
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert (user["id"], user["kind"], user["email"]) == (guest_id, "member", email)
    assert await stack.image_count(guest_id) == 1
    assert await count(stack, users) == 1


async def test_a_password_members_address_is_409_then_linked_after_logging_in(
    stack: Stack, google: FakeIssuer
) -> None:
    email, sub = fresh_email("pat"), subject()
    session = await member(stack, email)
    refused = await sign_in(stack.client, "google", google.google(sub, email))
    assert (refused.status_code, error_code(refused)) == (409, "email_in_use")
    assert await count(stack, identities) == 0

    linked = await stack.client.post(f"{API}/me/identities", headers=bearer(session["tokens"]),
                                     json={"provider": "google",
                                           "id_token": google.google(sub, email)})
    assert linked.status_code == 200, linked.text
    assert linked.json()["provider"] == "google"
    found = await sign_in(stack.client, "google", google.google(sub, email))
    assert found.status_code == 200, found.text
    assert found.json()["user"]["id"] == session["user"]["id"]

    # With a password left, the provider can go; then Google is a stranger again.
    unlinked = await stack.client.delete(f"{API}/me/identities/google",
                                         headers=bearer(session["tokens"]))
    assert unlinked.status_code == 204, unlinked.text
    again = await sign_in(stack.client, "google", google.google(sub, email))
    assert (again.status_code, error_code(again)) == (409, "email_in_use")


async def test_an_identity_linked_to_someone_else_is_409(
    stack: Stack, apple: FakeIssuer, google: FakeIssuer
) -> None:
    sub = subject()
    owner = await sign_in(stack.client, "google", google.google(sub))
    assert owner.status_code == 200, owner.text
    other = await member(stack, fresh_email("eve"))
    response = await stack.client.post(
        f"{API}/me/identities", headers=bearer(other["tokens"]),
        json={"provider": "google", "id_token": google.google(sub)})
    assert (response.status_code, error_code(response)) == (409, "identity_in_use")
    second_google = await stack.client.post(
        f"{API}/me/identities", headers=bearer(owner.json()["tokens"]),
        json={"provider": "google", "id_token": google.google(subject())})
    assert (second_google.status_code, error_code(second_google)) == (
        409, "provider_already_linked")


async def test_unlinking_never_removes_the_last_way_in(
    stack: Stack, apple: FakeIssuer, google: FakeIssuer
) -> None:
    first = await sign_in(stack.client, "google", google.google(subject()))
    tokens = first.json()["tokens"]
    last = await stack.client.delete(f"{API}/me/identities/google", headers=bearer(tokens))
    assert (last.status_code, error_code(last)) == (409, "last_sign_in_method")
    nonce, apple_sub = secrets.token_urlsafe(16), subject()
    linked = await stack.client.post(f"{API}/me/identities", headers=bearer(tokens), json={
        "provider": "apple", "id_token": apple.apple(apple_sub, nonce), "nonce": nonce})
    assert linked.status_code == 200, linked.text

    # Two unlinks at once: one may go, the other finds it is the last.
    both = await asyncio.gather(*(
        stack.client.delete(f"{API}/me/identities/{p}", headers=bearer(tokens))
        for p in ("google", "apple")))
    assert sorted(r.status_code for r in both) == [204, 409], [r.text for r in both]
    assert await count(stack, identities) == 1
    missing = await stack.client.delete(f"{API}/me/identities/github", headers=bearer(tokens))
    assert missing.status_code == 404


async def test_a_disabled_account_is_403(stack: Stack, google: FakeIssuer) -> None:
    sub = subject()
    first = await sign_in(stack.client, "google", google.google(sub))
    async with (await stack.engine()).begin() as connection:
        await connection.execute(update(users).where(
            users.c.id == first.json()["user"]["id"]).values(status="disabled"))
    response = await sign_in(stack.client, "google", google.google(sub))
    assert (response.status_code, error_code(response)) == (403, "account_disabled")


async def test_a_provider_without_client_ids_is_off(make_stack: StackFactory,
                                                    google: FakeIssuer) -> None:
    async with make_stack() as plain:
        response = await sign_in(plain.client, "google", google.google(subject()))
    assert (response.status_code, error_code(response)) == (404, "provider_disabled")


def _now() -> int:
    return int(time.time())


Forgery = Callable[[FakeIssuer], tuple[str, str | None]]
"""An issuer -> (a token it must not accept, the raw nonce sent with it)."""


def _apple(**claims: Any) -> Forgery:
    def forge(apple: FakeIssuer) -> tuple[str, str | None]:
        nonce = secrets.token_urlsafe(16)
        return apple.apple(subject(), nonce, **claims), nonce
    return forge


def _hs256_with_public_key(apple: FakeIssuer) -> tuple[str, str | None]:
    nonce = secrets.token_urlsafe(16)
    claims = apple.claims(subject(), nonce=sha256_hex(nonce))
    return apple.forged({"alg": "HS256", "kid": apple.kid, "typ": "JWT"}, claims,
                        apple.public_pem()), nonce


def _alg_none(apple: FakeIssuer) -> tuple[str, str | None]:
    nonce = secrets.token_urlsafe(16)
    claims = apple.claims(subject(), nonce=sha256_hex(nonce))
    return apple.forged({"alg": "none", "kid": apple.kid}, claims, None), nonce


def _wrong_nonce(apple: FakeIssuer) -> tuple[str, str | None]:
    return apple.apple(subject(), "the nonce the app meant"), "another nonce"


def _raw_nonce_in_token(apple: FakeIssuer) -> tuple[str, str | None]:
    nonce = secrets.token_urlsafe(16)
    return apple.mint(subject(), nonce=nonce), nonce


def _no_nonce_sent(apple: FakeIssuer) -> tuple[str, str | None]:
    return apple.apple(subject(), "raw"), None


def _unknown_key_with_valid_kid(apple: FakeIssuer) -> tuple[str, str | None]:
    nonce = secrets.token_urlsafe(16)
    return apple.apple(subject(), nonce, key=new_rsa_key()), nonce


def _jku_header(apple: FakeIssuer) -> tuple[str, str | None]:
    # Signed by the provider's own key, but naming a key set elsewhere: never followed,
    # and a provider's token never carries one, so it is refused outright.
    nonce = secrets.token_urlsafe(16)
    return apple.apple(subject(), nonce, headers={"jku": "http://127.0.0.1:1/keys"}), nonce


FORGERIES: dict[str, Forgery] = {
    "another audience": _apple(aud="com.example.someone-else"),
    "another issuer": _apple(iss="https://accounts.google.com"),
    "an issuer with a trailing slash": _apple(iss="https://appleid.apple.com/"),
    "expired": _apple(exp=_now() - 3600, iat=_now() - 7200),
    "issued in the future": _apple(iat=_now() + 3600, exp=_now() + 7200),
    "no expiry": _apple(exp=None),
    "wrong nonce": _wrong_nonce,
    "the raw nonce instead of its hash": _raw_nonce_in_token,
    "no nonce sent": _no_nonce_sent,
    "HS256 signed with the public key": _hs256_with_public_key,
    "alg none": _alg_none,
    "signed by an unknown key under the published kid": _unknown_key_with_valid_kid,
    "a jku header": _jku_header,
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_a_forged_or_misaddressed_token_is_401(
    stack: Stack, apple: FakeIssuer, forge: Forgery
) -> None:
    token, nonce = forge(apple)
    response = await sign_in(stack.client, "apple", token, nonce)
    assert (response.status_code, error_code(response)) == (401, "invalid_token"), response.text
    assert await count(stack, users) == 0


async def test_a_token_is_held_to_the_device_it_was_first_used_from(
    stack: Stack, apple: FakeIssuer, google: FakeIssuer
) -> None:
    nonce, phone, thief = secrets.token_urlsafe(16), device_id(), device_id()
    token = apple.apple(subject(), nonce, RELAY)
    first = await sign_in(stack.client, "apple", token, nonce, device=phone)
    assert first.status_code == 200, first.text
    # The SDK restoring a sign-in sends its cached token again: the same device is let in.
    again = await sign_in(stack.client, "apple", token, nonce, device=phone)
    assert again.status_code == 200, again.text
    assert again.json()["user"]["id"] == first.json()["user"]["id"]
    # The same token and raw nonce, stolen and sent from another device: refused.
    stolen = await sign_in(stack.client, "apple", token, nonce, device=thief)
    assert (stolen.status_code, error_code(stolen)) == (401, "token_replayed"), stolen.text
    assert await count(stack, id_token_uses) == 1

    # A token that linked Google to a session is held to that session's device too.
    linking = google.google(subject())
    linked = await stack.client.post(f"{API}/me/identities", headers=bearer(
        first.json()["tokens"]), json={"provider": "google", "id_token": linking})
    assert linked.status_code == 200, linked.text
    replayed = await sign_in(stack.client, "google", linking, device=thief)
    assert (replayed.status_code, error_code(replayed)) == (401, "token_replayed")
    other = await member(stack, fresh_email("mallory"))
    relinked = await stack.client.post(f"{API}/me/identities", headers=bearer(
        other["tokens"]), json={"provider": "google", "id_token": linking})
    assert (relinked.status_code, error_code(relinked)) == (401, "token_replayed")


async def test_a_google_token_is_refused_at_the_apple_route(
    stack: Stack, google: FakeIssuer
) -> None:
    response = await sign_in(stack.client, "apple", google.google(subject()), "nonce")
    assert (response.status_code, error_code(response)) == (401, "invalid_token")


async def test_unknown_kids_do_not_stampede_the_providers_jwks(
    stack: Stack, apple: FakeIssuer
) -> None:
    # A first good sign-in: the keys are loaded.
    assert (await apple_sign_in(stack, apple, subject())).status_code == 200
    before = apple.fetches

    async def unknown_kid() -> httpx.Response:
        nonce = secrets.token_urlsafe(16)
        return await sign_in(stack.client, "apple", apple.apple(
            subject(), nonce, kid=secrets.token_hex(8)), nonce)

    answers = await asyncio.gather(*(unknown_kid() for _ in range(40)))
    assert {(r.status_code, error_code(r)) for r in answers} == {(401, "invalid_token")}
    assert apple.fetches - before <= 1, apple.fetches - before


async def test_bad_bodies_are_422(stack: Stack) -> None:
    for body in ({}, {"id_token": "not a jwt", "device_id": device_id(), "platform": "ios"},
                 {"id_token": "a.b.c", "device_id": "short", "platform": "ios"},
                 {"id_token": "a.b.c", "device_id": device_id(), "platform": "windows"}):
        response = await stack.client.post(f"{API}/sessions/apple", json=body)
        assert response.status_code in (400, 422), (body, response.text)
    garbage = await sign_in(stack.client, "google", "a.b.c")
    assert (garbage.status_code, error_code(garbage)) == (401, "invalid_token")


async def test_a_member_without_a_password_can_delete_the_account(
    stack: Stack, apple: FakeIssuer
) -> None:
    sub = subject()
    first = await apple_sign_in(stack, apple, sub, RELAY)
    gone = await stack.client.request("DELETE", f"{API}/me",
                                      headers=bearer(first.json()["tokens"]))
    assert gone.status_code == 202, gone.text
    assert await count(stack, identities) == 0
    # The same Apple account later is a new member.
    again = await apple_sign_in(stack, apple, sub, RELAY)
    assert again.status_code == 200, again.text
    assert again.json()["user"]["id"] != first.json()["user"]["id"]


async def test_the_openapi_document_lists_the_routes_and_their_errors(stack: Stack) -> None:
    paths = (await stack.client.get(f"{API}/schema/openapi.json")).json()["paths"]
    expected = {
        ("/v1/api/sessions/apple", "post"): {"401", "403", "404", "409", "422", "429"},
        ("/v1/api/sessions/google", "post"): {"401", "403", "404", "409", "422", "429"},
        ("/v1/api/me/identities", "post"): {"401", "403", "404", "409", "422", "429"},
        ("/v1/api/me/identities", "get"): {"401", "429"},
        ("/v1/api/me/identities/{provider}", "delete"): {"401", "404", "409", "429"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), (path, method)
