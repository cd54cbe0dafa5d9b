"""Password lock-out under a burst of concurrent guesses, on SQLite and PostgreSQL: at most
the threshold of password checks run (each 401 is one check; a 429 ran none), failures
count per account and client address, and signed-in sessions live through a lock."""

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.admin import ADMIN, ADMIN_EMAIL, ADMIN_PASSWORD, AdminStack, running_admin_stack
from tests.support.crowd import address, at_once, crowd, statuses
from tests.support.phone import API, bearer, device_id, error_code, login, refresh, register
from tests.support.stack import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
BURST = 20
PASSWORD = "correct horse battery staple"
# Per-IP rate limits out of the way: the lock-out is what is under test.
NO_RATE_LIMIT = {"rate_limit_sessions_per_minute": 10_000}


async def confirmed_member(stack: Stack) -> str:
    email = f"owner-{secrets.token_hex(4)}@example.com"
    assert (await register(stack.client, email, PASSWORD, device_id())).status_code == 201
    confirmed = await stack.client.post(f"{API}/accounts/confirm", json={
        "email": email, "code": stack.confirmation_code(email)})
    assert confirmed.status_code == 200, confirmed.text
    return email


def checked_and_locked(answers: list[httpx.Response]) -> tuple[int, int]:
    """(password checks that ran, requests refused by the lock without one)."""
    assert set(statuses(answers)) <= {401, 429}, statuses(answers)
    locked = [a for a in answers if a.status_code == 429]
    assert all(error_code(a) == "account_locked" for a in locked)
    return len(answers) - len(locked), len(locked)


async def test_a_burst_from_one_address_runs_at_most_five_password_checks(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack(**NO_RATE_LIMIT) as stack:
        email = await confirmed_member(stack)
        async with crowd(stack.base_url, BURST, from_address="127.0.0.7") as clients:
            answers = await at_once(
                clients, lambda client, n: login(client, email, f"guess-{n}", device_id()))
        assert checked_and_locked(answers) == (5, BURST - 5)
        # The stranger's address is locked out; the owner, elsewhere, is not.
        async with crowd(stack.base_url, 1, from_address="127.0.0.8") as (owner,):
            assert (await login(owner, email, PASSWORD, device_id())).status_code == 200


async def test_guesses_from_many_addresses_lock_the_account_but_not_its_sessions(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack(lockout_account_threshold=10, **NO_RATE_LIMIT) as stack:
        email = await confirmed_member(stack)
        phone = device_id()
        signed_in = await login(stack.client, email, PASSWORD, phone)
        assert signed_in.status_code == 200
        tokens = signed_in.json()["tokens"]
        async with crowd(stack.base_url, BURST + 1) as clients:
            answers = await at_once(
                clients[:BURST],
                lambda client, n: login(client, email, f"guess-{n}", device_id()))
            assert checked_and_locked(answers) == (10, BURST - 10)
            owner = clients[BURST]  # an address that never guessed
            locked = await login(owner, email, PASSWORD, device_id())
        assert locked.status_code == 429 and error_code(locked) == "account_locked"
        assert int(locked.headers["Retry-After"]) >= 1
        # Password log-in is locked; the phone already signed in keeps working.
        me = await stack.client.get(f"{API}/me", headers=bearer(tokens))
        assert me.status_code == 200 and me.json()["email"] == email
        renewed = await refresh(stack.client, tokens["refresh_token"], phone)
        assert renewed.status_code == 200, renewed.text
        again = await stack.client.get(f"{API}/me", headers=bearer(renewed.json()["tokens"]))
        assert again.status_code == 200


@pytest.fixture
async def admin_stack(any_database_url: str, tmp_path: Path) -> AsyncIterator[AdminStack]:
    async with running_admin_stack(tmp_path / "data", any_database_url,
                                   **NO_RATE_LIMIT) as running:
        await running.create_admin()
        yield running


async def admin_login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post(f"{ADMIN}/sessions", json={
        "email": ADMIN_EMAIL, "password": password})


async def test_a_burst_of_admin_guesses_runs_at_most_five_checks_and_is_audited(
    admin_stack: AdminStack,
) -> None:
    async with crowd(admin_stack.base_url, BURST, from_address="127.0.0.7",
                     warm_path=f"{ADMIN}/healthz") as clients:
        answers = await at_once(clients, lambda client, n: admin_login(client, f"guess-{n}"))
    assert checked_and_locked(answers) == (5, BURST - 5)

    headers = await admin_stack.admin_token()  # the owner, from another address
    audit = await admin_stack.client.get(f"{ADMIN}/audit", headers=headers,
                                         params={"action": "admin.login_failed"})
    failed: list[dict[str, Any]] = audit.json()["entries"]
    assert len(failed) == 5
    assert {entry["source_ip"] for entry in failed} == {"127.0.0.7"}
    assert {entry["details"]["email"] for entry in failed} == {ADMIN_EMAIL}
    assert ADMIN_PASSWORD not in audit.text


async def test_admin_guesses_from_many_addresses_stop_at_the_account_ceiling(
    any_database_url: str, tmp_path: Path,
) -> None:
    async with running_admin_stack(tmp_path / "data", any_database_url,
                                   lockout_account_threshold=10, **NO_RATE_LIMIT) as stack:
        await stack.create_admin()
        async with crowd(stack.base_url, BURST + 1, warm_path=f"{ADMIN}/healthz") as clients:
            answers = await at_once(
                clients[:BURST], lambda client, n: admin_login(client, f"guess-{n}"))
            assert checked_and_locked(answers) == (10, BURST - 10)
            locked = await admin_login(clients[BURST], ADMIN_PASSWORD)
        assert locked.status_code == 429 and error_code(locked) == "account_locked", (
            f"an address that never guessed ({address(BURST)})")
