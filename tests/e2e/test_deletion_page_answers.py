"""The public deletion page tells nobody whether an address has an account, not even by
how long it takes: with a mailer as slow as a real one (SES answers in tens of
milliseconds), the answer for a member's address is as quick as for an unknown one, since
the code and the mail follow the answer. And every limit on the page, its own or the
API's per-IP one, answers the page as HTML with 429 and Retry-After, never JSON."""

import asyncio
import re
import secrets
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from adapters.local.mailer import MailboxMailer
from application.ports.messaging import Email
from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from tests.support.crowd import address
from tests.support.phone import API, device_id, register
from tests.support.server import serving
from tests.support.stack import CHEAP_HASHING

PAGE = f"{API}/account-deletion"
PASSWORD = "correct horse battery staple"
MAIL_SECONDS = 0.06  # what one SES SendEmail costs from a region, give or take
SAMPLES = 12
MAX_GAP = MAIL_SECONDS / 2


class SlowMailer:
    """The real mailbox mailer, as slow as a mail service across the network."""

    def __init__(self, inner: MailboxMailer) -> None:
        self._inner = inner

    async def send(self, email: Email) -> None:
        await asyncio.sleep(MAIL_SECONDS)
        await self._inner.send(email)


@dataclass
class Page:
    base_url: str
    client: httpx.AsyncClient
    mailbox: Path

    def mailed(self, to: str, subject_has: str) -> str | None:
        import email as parse

        for path in sorted(self.mailbox.glob("*.eml"), reverse=True):
            message = parse.message_from_bytes(path.read_bytes())
            if message["To"] == to and subject_has in str(message["Subject"]):
                body = message.get_payload(decode=True)
                text = body.decode() if isinstance(body, bytes) else str(message.get_payload())
                found = re.search(r"\b(\d{6})\b", text)
                return found.group(1) if found else ""
        return None

    async def eventually_mailed(self, to: str, subject_has: str) -> str:
        for _ in range(100):
            found = self.mailed(to, subject_has)
            if found is not None:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"nothing mailed to {to}")


async def open_page(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Page]:
    """The mobile API alone, its mailer slowed to a real one's pace (set before it starts)."""
    settings = Settings.model_validate({
        "data_dir": tmp_path / "data", "database_url": database_url, "keystore": "memory",
        "redis_url": None, **CHEAP_HASHING, "rate_limit_sessions_per_minute": 10_000,
        **overrides})
    container = MobileContainer(infrastructure=Infrastructure(settings=settings))
    mailbox = settings.data_dir / "mailbox"
    container.infrastructure.mailer.override(providers.Object(SlowMailer(MailboxMailer(mailbox))))
    async with (
        serving(create_app(container)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        yield Page(base_url, client, mailbox)


@pytest.fixture
async def page(database_url: str, tmp_path: Path) -> AsyncIterator[Page]:
    async for running in open_page(database_url, tmp_path,
                                   rate_limit_default_per_minute=100_000):
        yield running


class Csrf(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.value = ""
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf":
            self.value = found.get("value") or ""


async def member(page: Page, email: str) -> None:
    assert (await register(page.client, email, PASSWORD, device_id())).status_code == 201
    code = await page.eventually_mailed(email, "onfirm")
    confirmed = await page.client.post(f"{API}/accounts/confirm", json={
        "email": email, "code": code})
    assert confirmed.status_code == 200, confirmed.text


async def timed_ask(page: Page, email: str, n: int) -> float:
    """One browser (its own address, its own CSRF cookie) asks for a code; seconds taken."""
    transport = httpx.AsyncHTTPTransport(local_address=address(n))
    async with httpx.AsyncClient(base_url=page.base_url, transport=transport) as browser:
        token = Csrf((await browser.get(PAGE)).text).value
        started = time.perf_counter()
        answer = await browser.post(PAGE, data={"csrf": token, "email": email})
        took = time.perf_counter() - started
    assert answer.status_code == 200, answer.text
    return took


async def test_a_members_address_is_answered_as_quickly_as_an_unknown_one(page: Page) -> None:
    members = [f"m-{secrets.token_hex(4)}@example.com" for _ in range(SAMPLES)]
    for email in members:
        await member(page, email)
    known, unknown = [], []
    for n, email in enumerate(members):  # interleaved, so load drifts hit both alike
        known.append(await timed_ask(page, email, n))
        unknown.append(await timed_ask(page, "nobody-" + email, n + SAMPLES))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    print(f"deletion page answer, median of {SAMPLES}: member {known_median * 1000:.1f} ms, "
          f"unknown {unknown_median * 1000:.1f} ms (mail takes {MAIL_SECONDS * 1000:.0f} ms)")
    assert abs(known_median - unknown_median) < MAX_GAP, (known, unknown)
    # The members still get their codes, after the answer.
    assert all([await page.eventually_mailed(email, "deletion") for email in members])
    assert page.mailed("nobody-" + members[0], "deletion") is None


@pytest.fixture
async def strict_page(database_url: str, tmp_path: Path) -> AsyncIterator[Page]:
    async for running in open_page(database_url, tmp_path,
                                   rate_limit_default_per_minute=3):
        yield running


def assert_html_429(answer: httpx.Response) -> None:
    assert answer.status_code == 429
    assert answer.headers["content-type"].startswith("text/html")
    assert int(answer.headers["retry-after"]) >= 1
    assert "Too many requests" in answer.text and "<!doctype html>" in answer.text


async def test_the_apis_per_ip_limit_answers_the_page_as_html(strict_page: Page) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=address(200))
    async with httpx.AsyncClient(base_url=strict_page.base_url, transport=transport) as browser:
        answers = [await browser.get(PAGE) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert_html_429(await browser.get(PAGE))
        token = Csrf(answers[-1].text).value
        assert_html_429(await browser.post(PAGE, data={"csrf": token, "email": "a@b.com"}))
        assert_html_429(await browser.post(f"{PAGE}/confirm", data={
            "csrf": token, "email": "a@b.com", "code": "123456", "confirm": "yes"}))


async def test_the_pages_own_limit_answers_html(page: Page) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=address(201))
    async with httpx.AsyncClient(base_url=page.base_url, transport=transport) as browser:
        email = f"x-{secrets.token_hex(4)}@example.com"
        statuses = []
        for _ in range(4):
            token = Csrf((await browser.get(PAGE)).text).value
            answer = await browser.post(PAGE, data={"csrf": token, "email": email})
            statuses.append(answer.status_code)
        assert statuses == [200, 200, 200, 429]
        assert_html_429(answer)
