"""The public deletion page's e-mailed code holds its cap of 5 attempts, and works once,
under bursts of 20 concurrent confirmations, each from its own loopback address, on SQLite
and PostgreSQL."""

import asyncio
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from html.parser import HTMLParser

import httpx
from sqlalchemy import func, select

from adapters.sql.tables import deletion_codes, users
from tests.support.crowd import at_once, crowd
from tests.support.phone import API, device_id, register
from tests.support.stack import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
BURST, CAP = 20, 5
PASSWORD = "correct horse battery staple"
PAGE = f"{API}/account-deletion"


class CsrfToken(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.value = ""
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf":
            self.value = found.get("value") or ""


async def member_with_deletion_code(stack: Stack) -> tuple[str, str]:
    email = f"victim-{secrets.token_hex(4)}@example.com"
    assert (await register(stack.client, email, PASSWORD, device_id())).status_code == 201
    confirmed = await stack.client.post(f"{API}/accounts/confirm", json={
        "email": email, "code": stack.confirmation_code(email)})
    assert confirmed.status_code == 200
    token = CsrfToken((await stack.client.get(PAGE)).text).value
    sent = await stack.client.post(PAGE, data={"csrf": token, "email": email})
    assert sent.status_code == 200, sent.text
    for _ in range(100):  # the page mails after it answers
        for message in reversed(stack.mailbox()):
            if message["To"] == email and "deletion" in str(message["Subject"]):
                body = message.get_payload(decode=True)
                text = body.decode() if isinstance(body, bytes) else str(message.get_payload())
                found = re.search(r"\b(\d{6})\b", text)
                assert found
                return email, found.group(1)
        await asyncio.sleep(0.05)
    raise AssertionError("no deletion code mailed")


async def confirm(client: httpx.AsyncClient, email: str, code: str) -> httpx.Response:
    """What a browser on its own address does: open the page (its CSRF cookie), post."""
    token = CsrfToken((await client.get(PAGE)).text).value
    return await client.post(f"{PAGE}/confirm", data={
        "csrf": token, "email": email, "code": code, "confirm": "yes"})


async def counted(stack: Stack) -> int:
    async with (await stack.engine()).connect() as connection:
        return int(await connection.scalar(select(func.max(deletion_codes.c.attempts))) or 0)


async def still_there(stack: Stack, email: str) -> bool:
    async with (await stack.engine()).connect() as connection:
        return bool(await connection.scalar(
            select(func.count()).select_from(users).where(users.c.email == email)))


async def test_twenty_concurrent_wrong_codes_use_up_five_attempts(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack() as stack:
        email, right = await member_with_deletion_code(stack)
        wrong = [f"{(int(right) + 1 + n) % 1_000_000:06d}" for n in range(BURST)]
        async with crowd(stack.base_url, BURST + 1) as clients:
            answers = await at_once(
                clients[:BURST], lambda client, n: confirm(client, email, wrong[n]))
            assert {a.status_code for a in answers} == {422}
            assert await counted(stack) == CAP
            last = await confirm(clients[BURST], email, right)  # a fresh address
        assert last.status_code == 422, "the right code worked after 20 concurrent wrong ones"
        assert await still_there(stack, email)


async def test_twenty_concurrent_right_codes_delete_once(make_any_stack: StackFactory) -> None:
    async with make_any_stack() as stack:
        email, right = await member_with_deletion_code(stack)
        async with crowd(stack.base_url, BURST) as clients:
            answers = await at_once(clients, lambda client, n: confirm(client, email, right))
        assert sorted(a.status_code for a in answers) == [200] + [422] * (BURST - 1)
        assert not await still_there(stack, email)
