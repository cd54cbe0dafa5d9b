"""E-mailed 6-digit codes hold their attempt cap under a burst of concurrent guesses, each
guess from its own address, on SQLite and PostgreSQL. A code route with a cap is one more
CodeRoute in CODE_ROUTES (password-reset codes have their own module,
test_concurrency_reset.py, which also tells a wrong code from a used-up one)."""

import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from adapters.sql.tables import local_credentials
from tests.support.crowd import address, at_once, crowd
from tests.support.phone import API, device_id, error_code, register
from tests.support.stack import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
BURST = 20
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class CodeRoute:
    """A code the server mails and caps, as an attacker meets it."""

    name: str
    cap: int
    mail_code: Callable[[Stack, str], Awaitable[str]]
    """Has a code mailed to the address; returns it (what the owner reads)."""
    guess: Callable[[httpx.AsyncClient, str, str], Awaitable[httpx.Response]]
    refusal: tuple[int, str]
    counted: Callable[[Stack, str], Awaitable[int]]
    """The attempts the server has counted against the live code."""


async def _register(stack: Stack, email: str) -> str:
    response = await register(stack.client, email, PASSWORD, device_id())
    assert response.status_code == 201, response.text
    return stack.confirmation_code(email)


async def _confirm(client: httpx.AsyncClient, email: str, code: str) -> httpx.Response:
    return await client.post(f"{API}/accounts/confirm", json={"email": email, "code": code})


async def _confirmation_attempts(stack: Stack, email: str) -> int:
    async with (await stack.engine()).connect() as connection:
        found = await connection.scalar(select(local_credentials.c.code_attempts).where(
            local_credentials.c.email == email))
    return int(found or 0)


CONFIRMATION = CodeRoute(
    name="confirmation", cap=5, mail_code=_register, guess=_confirm,
    refusal=(422, "invalid_confirmation_code"), counted=_confirmation_attempts,
)
CODE_ROUTES = [CONFIRMATION]


@pytest.mark.parametrize("route", CODE_ROUTES, ids=lambda route: route.name)
async def test_a_burst_of_wrong_codes_is_compared_no_more_than_the_cap(
    make_any_stack: StackFactory, route: CodeRoute
) -> None:
    async with make_any_stack() as stack:
        email = f"victim-{secrets.token_hex(4)}@example.com"
        right = await route.mail_code(stack, email)
        wrong = [f"{(int(right) + 1 + n) % 1_000_000:06d}" for n in range(BURST)]
        async with crowd(stack.base_url, BURST + 1) as clients:
            answers = await at_once(
                clients[:BURST], lambda client, n: route.guess(client, email, wrong[n]))
            assert {(a.status_code, error_code(a)) for a in answers} == {route.refusal}
            assert await route.counted(stack, email) == route.cap
            last = await route.guess(clients[BURST], email, right)  # a fresh address
        assert (last.status_code, error_code(last)) == route.refusal, (
            f"the right {route.name} code worked after {BURST} concurrent wrong ones "
            f"(from {address(0)} to {address(BURST)})")
