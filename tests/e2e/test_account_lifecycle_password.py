"""Password reset, password change and e-mail change over HTTP, on SQLite and PostgreSQL:
what a member who forgot a password, or wants a new one or a new address, goes through;
what every other device sees (tokens 401, sockets closed); and the bad inputs (wrong codes,
weak passwords, an address in use), each a 4xx with a code."""

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from entrypoints.wiring.di import resolve
from tests.e2e.conftest import StackFactory
from tests.support.gateway import gateway_settings, running_gateway
from tests.support.phone import API, bearer, device_id, error_code, login, register
from tests.support.stack import Stack

PASSWORD, NEW_PASSWORD = "correct horse battery", "a new and long passphrase"
RESET = f"{API}/accounts/password-reset"
MAIL_WAIT = 5.0


@pytest.fixture
async def stack(make_stack: StackFactory) -> AsyncIterator[Stack]:
    # Per-IP limits out of the way: every request here comes from 127.0.0.1.
    async with make_stack(rate_limit_sessions_per_minute=10_000,
                          auth_cache_seconds=300) as running:
        yield running


def fresh_email(name: str = "ada") -> str:
    return f"{name}-{secrets.token_hex(4)}@example.com"


def mails_to(stack: Stack, address: str, subject_part: str = "") -> list[str]:
    found = []
    for message in stack.mailbox():
        if message["To"] == address and subject_part.lower() in str(message["Subject"]).lower():
            body = message.get_payload(decode=True)
            found.append(body.decode() if isinstance(body, bytes) else str(message.get_payload()))
    return found


async def mailed_code(stack: Stack, address: str, subject_part: str) -> str:
    """The newest 6-digit code mailed to `address` (reset mail is sent after the answer)."""
    deadline = asyncio.get_running_loop().time() + MAIL_WAIT
    while True:
        for body in reversed(mails_to(stack, address, subject_part)):
            found = re.search(r"\b(\d{6})\b", body)
            if found:
                return found.group(1)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {subject_part!r} code mailed to {address}")
        await asyncio.sleep(0.05)


async def member(stack: Stack, email: str, device: str | None = None) -> dict[str, Any]:
    """Registers, confirms and returns the session of `device` (with its id)."""
    device = device or device_id()
    response = await register(stack.client, email, PASSWORD, device)
    assert response.status_code == 201, response.text
    confirmed = await stack.client.post(f"{API}/accounts/confirm", json={
        "email": email, "code": stack.confirmation_code(email)})
    assert confirmed.status_code == 200, confirmed.text
    session: dict[str, Any] = response.json()
    session["device"] = device
    return session


async def second_device(stack: Stack, email: str, password: str = PASSWORD) -> dict[str, Any]:
    device = device_id()
    response = await login(stack.client, email, password, device)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    session["device"] = device
    return session


async def me(stack: Stack, session: dict[str, Any]) -> int:
    return (await stack.client.get(f"{API}/me", headers=bearer(session["tokens"]))).status_code


async def request_reset(stack: Stack, email: str) -> httpx.Response:
    return await stack.client.post(RESET, json={"email": email})


async def confirm_reset(
    client: httpx.AsyncClient, email: str, code: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    return await client.post(f"{RESET}/confirm", json={
        "email": email, "code": code, "password": password})


@asynccontextmanager
async def gateway_beside(stack: Stack) -> AsyncIterator[str]:
    """The realtime gateway on the stack's own bus, trusting its keys."""
    bus = await resolve(stack.infrastructure.bus)
    settings = gateway_settings(f"{stack.base_url}/.well-known/jwks.json",
                                issuer=stack.settings.issuer)
    async with running_gateway(settings, bus) as (url, _):
        yield url


async def open_socket(stack: Stack, url: str, session: dict[str, Any]) -> ClientConnection:
    response = await stack.client.post(f"{API}/realtime/token",
                                       headers=bearer(session["tokens"]))
    assert response.status_code == 200, response.text
    return await connect(f"{url}?token={response.json()['token']}", open_timeout=10)


async def closed_with(ws: ClientConnection, within: float = 3.0) -> int | None:
    await asyncio.wait_for(ws.wait_closed(), within)
    return ws.close_code


# Password reset.

async def test_a_reset_sets_the_password_and_ends_every_session_and_socket(
    stack: Stack,
) -> None:
    email = fresh_email()
    phone = await member(stack, email)
    tablet = await second_device(stack, email)
    async with gateway_beside(stack) as url:
        socket = await open_socket(stack, url, tablet)
        asked = await request_reset(stack, email)
        assert asked.status_code == 202, asked.text
        code = await mailed_code(stack, email, "reset")

        done = await confirm_reset(stack.client, email, code)

        assert done.status_code == 200, done.text
        assert done.json() == {"status": "password_set"}
        assert await closed_with(socket) == 1008
    assert await me(stack, phone) == 401
    assert await me(stack, tablet) == 401
    refreshed = await stack.client.post(f"{API}/sessions/refresh", json={
        "refresh_token": phone["tokens"]["refresh_token"], "device_id": phone["device"]})
    assert refreshed.status_code == 401
    old = await login(stack.client, email, PASSWORD, device_id())
    assert (old.status_code, error_code(old)) == (401, "invalid_credentials")
    new = await login(stack.client, email, NEW_PASSWORD, device_id())
    assert new.status_code == 200, new.text
    again = await confirm_reset(stack.client, email, code, "yet another passphrase")
    assert again.status_code == 422  # single use


async def test_five_wrong_codes_kill_the_code_and_a_new_request_replaces_it(
    stack: Stack,
) -> None:
    email = fresh_email()
    await member(stack, email)
    await request_reset(stack, email)
    code = await mailed_code(stack, email, "reset")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        answer = await confirm_reset(stack.client, email, wrong)
        assert (answer.status_code, error_code(answer)) == (422, "invalid_code")
    refused = await confirm_reset(stack.client, email, code)
    assert (refused.status_code, error_code(refused)) == (422, "code_expired")
    assert (await login(stack.client, email, PASSWORD, device_id())).status_code == 200


async def test_a_weak_password_is_refused_and_the_code_still_works(stack: Stack) -> None:
    email = fresh_email()
    await member(stack, email)
    await request_reset(stack, email)
    code = await mailed_code(stack, email, "reset")
    weak = await confirm_reset(stack.client, email, code, "short")
    assert weak.status_code == 422
    assert error_code(weak) in ("invalid_password", "invalid_request")
    assert (await confirm_reset(stack.client, email, code)).status_code == 200


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(stack: Stack) -> None:
    known, unknown = fresh_email("known"), fresh_email("nobody")
    await member(stack, known)
    answers = [await request_reset(stack, address) for address in (known, unknown)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    await mailed_code(stack, known, "reset")
    await asyncio.sleep(0.3)
    assert mails_to(stack, unknown) == []
    guess = await confirm_reset(stack.client, unknown, "123456")
    assert (guess.status_code, error_code(guess)) == (422, "invalid_code")


async def test_a_reset_lifts_the_login_lock_out(stack: Stack) -> None:
    email = fresh_email()
    await member(stack, email)
    for _ in range(5):
        await login(stack.client, email, "not the password", device_id())
    locked = await login(stack.client, email, PASSWORD, device_id())
    assert locked.status_code == 429, locked.text
    await request_reset(stack, email)
    done = await confirm_reset(stack.client, email, await mailed_code(stack, email, "reset"))
    assert done.status_code == 200, done.text
    assert (await login(stack.client, email, NEW_PASSWORD, device_id())).status_code == 200


async def test_bad_reset_bodies_are_422(stack: Stack) -> None:
    for body in ({"email": "not an address"}, {}, {"email": 7}):
        answer = await stack.client.post(RESET, json=body)
        assert answer.status_code in (400, 422), answer.text
        assert error_code(answer)
    answer = await stack.client.post(f"{RESET}/confirm", json={"email": "a@example.com"})
    assert answer.status_code in (400, 422) and error_code(answer)


async def test_reset_requests_are_limited_per_ip(make_stack: StackFactory) -> None:
    async with make_stack(rate_limit_sessions_per_minute=3) as stack:
        answers = [await request_reset(stack, fresh_email()) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].headers.get("Retry-After")


# Change password.

async def test_change_password_ends_the_other_devices_and_keeps_this_one(
    stack: Stack,
) -> None:
    email = fresh_email()
    phone = await member(stack, email)
    tablet = await second_device(stack, email)
    async with gateway_beside(stack) as url:
        tablet_socket = await open_socket(stack, url, tablet)
        phone_socket = await open_socket(stack, url, phone)

        changed = await stack.client.post(f"{API}/me/password", headers=bearer(phone["tokens"]),
                                          json={"current_password": PASSWORD,
                                                "password": NEW_PASSWORD})

        assert changed.status_code == 204, changed.text
        assert await closed_with(tablet_socket) == 1008
        await phone_socket.ping()
        assert phone_socket.close_code is None
        await phone_socket.close()
    assert await me(stack, tablet) == 401
    assert await me(stack, phone) == 200
    assert (await login(stack.client, email, PASSWORD, device_id())).status_code == 401
    assert (await login(stack.client, email, NEW_PASSWORD, device_id())).status_code == 200


async def test_change_password_needs_the_current_one_and_counts_failures(
    stack: Stack,
) -> None:
    email = fresh_email()
    phone = await member(stack, email)
    for _ in range(5):
        wrong = await stack.client.post(f"{API}/me/password", headers=bearer(phone["tokens"]),
                                        json={"current_password": "not it at all",
                                              "password": NEW_PASSWORD})
        assert (wrong.status_code, error_code(wrong)) == (403, "wrong_password")
    locked = await stack.client.post(f"{API}/me/password", headers=bearer(phone["tokens"]),
                                     json={"current_password": PASSWORD,
                                           "password": NEW_PASSWORD})
    assert locked.status_code == 429  # counted like failed log-ins: the lock-out holds
    assert await me(stack, phone) == 200
    weak = await stack.client.post(f"{API}/me/password", headers=bearer(phone["tokens"]),
                                   json={"current_password": PASSWORD, "password": "short"})
    assert weak.status_code == 422


# Change e-mail.

async def test_change_email_confirms_the_new_address_and_tells_the_old_one(
    stack: Stack,
) -> None:
    email, taken, new = fresh_email(), fresh_email("taken"), fresh_email("new")
    phone = await member(stack, email)
    await member(stack, taken)
    headers = bearer(phone["tokens"])

    in_use = await stack.client.post(f"{API}/me/email", headers=headers,
                                     json={"email": taken, "password": PASSWORD})
    assert (in_use.status_code, error_code(in_use)) == (409, "email_in_use")
    wrong = await stack.client.post(f"{API}/me/email", headers=headers,
                                    json={"email": new, "password": "not the password"})
    assert (wrong.status_code, error_code(wrong)) == (403, "wrong_password")

    asked = await stack.client.post(f"{API}/me/email", headers=headers,
                                    json={"email": new, "password": PASSWORD})
    assert asked.status_code == 202, asked.text
    code = await mailed_code(stack, new, "new")
    bad = await stack.client.post(f"{API}/me/email/confirm", headers=headers,
                                  json={"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert (bad.status_code, error_code(bad)) == (422, "invalid_code")
    confirmed = await stack.client.post(f"{API}/me/email/confirm", headers=headers,
                                        json={"code": code})

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == new and confirmed.json()["email_confirmed"]
    notice = mails_to(stack, email, "changed")
    assert len(notice) == 1 and new in notice[0]
    assert not re.search(r"\b\d{6}\b", notice[0])  # a notice, no code
    assert (await stack.client.get(f"{API}/me", headers=headers)).json()["email"] == new
    assert (await login(stack.client, new, PASSWORD, device_id())).status_code == 200
    assert (await login(stack.client, email, PASSWORD, device_id())).status_code == 401


async def test_a_guest_cannot_change_password_or_email(stack: Stack) -> None:
    guest = (await stack.client.post(f"{API}/guests", json={
        "device_id": device_id(), "platform": "ios"})).json()
    answer = await stack.client.post(f"{API}/me/email", headers=bearer(guest["tokens"]),
                                     json={"email": fresh_email(), "password": PASSWORD})
    assert (answer.status_code, error_code(answer)) == (403, "not_a_member")


# A disabled account.

async def test_a_disabled_account_is_told_only_to_the_right_password(stack: Stack) -> None:
    email = fresh_email()
    await member(stack, email)
    identity = await resolve(stack.infrastructure.identity)
    await identity.disable(email)
    wrong = await login(stack.client, email, "not the password", device_id())
    assert (wrong.status_code, error_code(wrong)) == (401, "invalid_credentials")
    right = await login(stack.client, email, PASSWORD, device_id())
    assert (right.status_code, error_code(right)) == (403, "account_disabled")


# Two API nodes (PostgreSQL, Redis): the reset on one ends the sessions the other cached.

@pytest.mark.postgres
@pytest.mark.redis
async def test_a_reset_on_one_node_ends_the_sessions_another_node_cached(
    tmp_path: Any, postgres_url: str, pg_engine: Any, redis_url: str,
) -> None:
    from tests.support.stack import running_stack

    shared: dict[str, Any] = {
        "keystore": "file", "redis_url": redis_url, "auth_cache_seconds": 300,
        "rate_limit_sessions_per_minute": 10_000,
        "realtime_bus_prefix": f"atelier:l1:{secrets.token_hex(4)}:"}
    async with running_stack(tmp_path / "data", postgres_url, **shared) as first:
        email = fresh_email()
        tablet = await member(first, email)
        async with running_stack(tmp_path / "data", postgres_url, **shared) as second:
            assert await me(second, tablet) == 200  # now cached on the second node for 300 s
            await request_reset(first, email)
            done = await confirm_reset(first.client, email,
                                       await mailed_code(first, email, "reset"))
            assert done.status_code == 200, done.text
            for _ in range(40):
                if await me(second, tablet) == 401:
                    break
                await asyncio.sleep(0.05)
            assert await me(second, tablet) == 401
