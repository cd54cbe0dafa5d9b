"""Brute force and spoofed client addresses: every limit answers 429 with Retry-After."""

import secrets
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx

from tests.support.phone import API, device_id, login, register
from tests.support.stack import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
PASSWORD = "correct horse battery staple"


def random_code() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["error"]["code"] in {"too_many_requests", "account_locked"}


async def confirmed_member(stack: Stack) -> str:
    address = f"m-{secrets.token_hex(4)}@example.com"
    assert (await register(stack.client, address, PASSWORD, device_id())).status_code == 201
    code = stack.confirmation_code(address)
    await stack.client.post(f"{API}/accounts/confirm", json={"email": address, "code": code})
    return address


async def test_password_guessing_locks_the_account_even_for_the_right_password(
    make_stack: StackFactory,
) -> None:
    async with make_stack(rate_limit_sessions_per_minute=1000) as stack:
        address = await confirmed_member(stack)
        for _ in range(5):
            wrong = await login(stack.client, address, "not the password", device_id())
            assert wrong.status_code == 401
        locked = await login(stack.client, address, PASSWORD, device_id())
        assert_limited(locked)
        assert locked.json()["error"]["code"] == "account_locked"


async def test_unknown_accounts_lock_the_same_way(make_stack: StackFactory) -> None:
    async with make_stack(rate_limit_sessions_per_minute=1000) as stack:
        ghost = "nobody@example.com"
        answers = [(await login(stack.client, ghost, "guess", device_id())).status_code
                   for _ in range(6)]
        assert answers == [401] * 5 + [429]


async def test_login_attempts_per_address_are_limited(stack: Stack) -> None:
    answers = []
    for _ in range(11):
        answers.append(await login(stack.client, f"x{secrets.token_hex(3)}@example.com",
                                   "guess-guess", device_id()))
    assert all(a.status_code == 401 for a in answers[:10])
    assert_limited(answers[10])


async def test_transfer_code_guessing_hits_the_per_address_limit(stack: Stack) -> None:
    answers = []
    for _ in range(11):
        answers.append(await stack.client.post(f"{API}/transfer-codes/redeem", json={
            "code": random_code(), "device_id": device_id(), "platform": "ios"}))
    assert all(a.status_code == 404 for a in answers[:10])
    assert_limited(answers[10])


async def test_spread_over_many_addresses_transfer_guessing_hits_the_global_limit(
    make_stack: StackFactory,
) -> None:
    async with make_stack(trusted_proxy_hops=1, rate_limit_redeem_global_per_hour=5) as stack:
        answers = []
        for i in range(6):
            answers.append(await stack.client.post(
                f"{API}/transfer-codes/redeem",
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
                json={"code": random_code(), "device_id": device_id(), "platform": "ios"}))
        assert [a.status_code for a in answers[:5]] == [404] * 5
        assert_limited(answers[5])


async def test_a_forged_forwarded_for_does_not_reset_the_limit(make_stack: StackFactory) -> None:
    # No trusted proxy: X-Forwarded-For is the client's own words and counts for nothing.
    async with make_stack(rate_limit_guests_per_minute=5) as stack:
        answers = []
        for i in range(6):
            answers.append(await stack.client.post(
                f"{API}/guests", headers={"X-Forwarded-For": f"203.0.113.{i}"},
                json={"device_id": device_id(), "platform": "ios"}))
        assert all(a.status_code == 201 for a in answers[:5])
        assert_limited(answers[5])


async def test_behind_one_proxy_only_the_address_it_saw_counts(make_stack: StackFactory) -> None:
    async with make_stack(trusted_proxy_hops=1, rate_limit_guests_per_minute=5) as stack:
        answers = []
        for i in range(6):
            # The client prepends whatever it likes; the proxy appends the real address.
            answers.append(await stack.client.post(
                f"{API}/guests", headers={"X-Forwarded-For": f"203.0.113.{i}, 192.0.2.7"},
                json={"device_id": device_id(), "platform": "ios"}))
        assert_limited(answers[5])
        elsewhere = await stack.client.post(
            f"{API}/guests", headers={"X-Forwarded-For": "192.0.2.8"},
            json={"device_id": device_id(), "platform": "ios"})
        assert elsewhere.status_code == 201

