"""Password-reset and e-mail-change codes hold their attempt cap under a burst of
concurrent guesses, each guess from its own loopback address, on SQLite and PostgreSQL: no
more than five guesses are ever compared, and the right code is refused afterwards."""

import asyncio
import re
import secrets

import pytest
from sqlalchemy import select

from adapters.sql.tables import local_codes, local_credentials
from tests.security.test_concurrency_codes import BURST, PASSWORD, StackFactory
from tests.support.crowd import address, at_once, crowd
from tests.support.phone import API, device_id, error_code, register
from tests.support.stack import Stack

CAP = 5
RESET = f"{API}/accounts/password-reset"


async def reset_code(stack: Stack, email: str) -> str:
    """A confirmed member asks for a reset; the code as the owner reads it."""
    response = await register(stack.client, email, PASSWORD, device_id())
    assert response.status_code == 201, response.text
    confirmed = await stack.client.post(f"{API}/accounts/confirm", json={
        "email": email, "code": stack.confirmation_code(email)})
    assert confirmed.status_code == 200, confirmed.text
    assert (await stack.client.post(RESET, json={"email": email})).status_code == 202
    for _ in range(100):  # the mail leaves after the answer
        for message in reversed(stack.mailbox()):
            if message["To"] == email and "reset" in str(message["Subject"]).lower():
                body = message.get_payload(decode=True)
                text = body.decode() if isinstance(body, bytes) else str(message.get_payload())
                found = re.search(r"\b(\d{6})\b", text)
                assert found is not None, text
                return found.group(1)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no reset code mailed to {email}")


async def counted(stack: Stack, email: str, purpose: str = "reset") -> int:
    async with (await stack.engine()).connect() as connection:
        subject = await connection.scalar(select(local_credentials.c.subject).where(
            local_credentials.c.email == email))
        found = await connection.scalar(select(local_codes.c.attempts).where(
            local_codes.c.subject == subject, local_codes.c.purpose == purpose))
    return int(found or 0)


@pytest.mark.parametrize("burst", [BURST])
async def test_a_burst_of_wrong_reset_codes_is_compared_no_more_than_the_cap(
    make_any_stack: StackFactory, burst: int
) -> None:
    async with make_any_stack() as stack:
        email = f"victim-{secrets.token_hex(4)}@example.com"
        right = await reset_code(stack, email)
        wrong = [f"{(int(right) + 1 + n) % 1_000_000:06d}" for n in range(burst)]
        async with crowd(stack.base_url, burst + 1) as clients:
            answers = await at_once(clients[:burst], lambda client, n: client.post(
                f"{RESET}/confirm",
                json={"email": email, "code": wrong[n], "password": "a brand new passphrase"}))
            outcomes = [(a.status_code, error_code(a)) for a in answers]
            assert outcomes.count((422, "invalid_code")) == CAP, outcomes
            assert outcomes.count((422, "code_expired")) == burst - CAP, outcomes
            assert await counted(stack, email) == CAP
            last = await clients[burst].post(f"{RESET}/confirm", json={
                "email": email, "code": right, "password": "a brand new passphrase"})
        assert (last.status_code, error_code(last)) == (422, "code_expired"), (
            f"the right reset code worked after {burst} concurrent wrong ones "
            f"(from {address(0)} to {address(burst)})")
        login = await stack.client.post(f"{API}/sessions", json={
            "email": email, "password": PASSWORD, "device_id": device_id(),
            "platform": "ios"})
        assert login.status_code == 200, "the password changed without the right code"


async def test_a_burst_of_wrong_email_change_codes_is_compared_no_more_than_the_cap(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack() as stack:
        email = f"victim-{secrets.token_hex(4)}@example.com"
        new = f"new-{secrets.token_hex(4)}@example.com"
        response = await register(stack.client, email, PASSWORD, device_id())
        assert response.status_code == 201, response.text
        await stack.client.post(f"{API}/accounts/confirm", json={
            "email": email, "code": stack.confirmation_code(email)})
        headers = {"Authorization": f"Bearer {response.json()['tokens']['access_token']}"}
        asked = await stack.client.post(f"{API}/me/email", headers=headers,
                                        json={"email": new, "password": PASSWORD})
        assert asked.status_code == 202, asked.text
        right = stack.confirmation_code(new)
        wrong = [f"{(int(right) + 1 + n) % 1_000_000:06d}" for n in range(BURST)]
        async with crowd(stack.base_url, BURST + 1) as clients:
            answers = await at_once(clients[:BURST], lambda client, n: client.post(
                f"{API}/me/email/confirm", headers=headers, json={"code": wrong[n]}))
            outcomes = [(a.status_code, error_code(a)) for a in answers]
            assert outcomes.count((422, "invalid_code")) == CAP, outcomes
            assert outcomes.count((422, "code_expired")) == BURST - CAP, outcomes
            assert await counted(stack, email, "email") == CAP
            last = await clients[BURST].post(f"{API}/me/email/confirm", headers=headers,
                                             json={"code": right})
        assert (last.status_code, error_code(last)) == (422, "code_expired")
        me = await stack.client.get(f"{API}/me", headers=headers)
        assert me.json()["email"] == email, "the address moved without the right code"
