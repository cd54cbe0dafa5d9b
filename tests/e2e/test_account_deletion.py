"""Deleting an account over real HTTP, with everything `atelier dev` runs on one port (the
mobile API and its outbox relay, the gateway, the worker): on SQLite, and on PostgreSQL
with Redis as the bus."""

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis_asyncio
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect

from adapters.sql.tables import audit_log
from entrypoints.dev.app import create_dev_app
from entrypoints.wiring.settings import Settings
from tests.support.images import FAST
from tests.support.phone import API, bearer, device_id, error_code, login, new_guest, register
from tests.support.stack import CHEAP_HASHING

PASSWORD = "correct horse battery staple"
WITHIN = 5.0


@dataclass
class Dev:
    base_url: str
    client: httpx.AsyncClient
    settings: Settings
    database_url: str

    def code_mailed_to(self, address: str, subject_has: str = "") -> str:
        import email
        import re
        folder = self.settings.data_dir / "mailbox"
        for path in sorted(folder.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes())
            if message["To"] == address and subject_has in str(message["Subject"]):
                body = message.get_payload(decode=True)
                text = body.decode() if isinstance(body, bytes) else str(message.get_payload())
                found = re.search(r"\b(\d{6})\b", text)
                if found:
                    return found.group(1)
        raise AssertionError(f"no code mailed to {address}")

    async def mailed_code(self, address: str, subject_has: str) -> str:
        """The code once its mail is out: the deletion page mails after it answers."""
        for _ in range(100):
            with contextlib.suppress(AssertionError):
                return self.code_mailed_to(address, subject_has)
            await asyncio.sleep(0.05)
        return self.code_mailed_to(address, subject_has)

    async def audit(self, user_id: str) -> list[dict[str, Any]]:
        engine = create_async_engine(self.database_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(audit_log).where(audit_log.c.target_id == user_id))
                return [dict(row) for row in rows.mappings()]
        finally:
            await engine.dispose()


@pytest.fixture
async def dev(database_url: str, tmp_path: Path, request: pytest.FixtureRequest
              ) -> AsyncIterator[Dev]:
    redis = (request.getfixturevalue("redis_url")
             if database_url.startswith("postgresql") else None)
    if redis is not None:
        await forget_page_limits(redis)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings.model_validate({
        "data_dir": tmp_path / "data", "database_url": database_url, "keystore": "memory",
        "redis_url": redis, "public_url": base_url, **CHEAP_HASHING, **FAST,
        # Redis keeps per-IP counts across tests; here only the password lock-out counts.
        "rate_limit_sessions_per_minute": 10_000, "rate_limit_guests_per_minute": 10_000,
        "rate_limit_default_per_minute": 100_000})
    async with (
        serving_on(create_dev_app(settings), port),
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        yield Dev(base_url, client, settings, database_url)


async def forget_page_limits(url: str) -> None:
    """Redis outlives a test: the page's per-IP count from an earlier test on 127.0.0.1
    must not spill into this one (only these keys: other tests share the database)."""
    client = redis_asyncio.Redis.from_url(url)
    try:
        async for key in client.scan_iter(match="*deletion-page:*"):
            await client.delete(key)
    finally:
        await client.aclose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving_on(app: Any, port: int) -> AsyncIterator[None]:
    """Like `atelier dev`: the gateway finds the JWKS at the public URL, so the port is
    known before the server starts."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on",
                            ws="wsproto", http="h11", loop="asyncio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def new_email() -> str:
    return f"leaving-{secrets.token_hex(4)}@example.com"


async def member(dev: Dev, address: str) -> dict[str, Any]:
    device = device_id()
    registered = await register(dev.client, address, PASSWORD, device)
    assert registered.status_code == 201, registered.text
    confirmed = await dev.client.post(f"{API}/accounts/confirm", json={
        "email": address, "code": dev.code_mailed_to(address, "confirmation")})
    assert confirmed.status_code == 200, confirmed.text
    body: dict[str, Any] = registered.json()
    return body


async def ready_image(dev: Dev, tokens: dict[str, Any]) -> dict[str, Any]:
    queued = await dev.client.post(f"{API}/images", headers=bearer(tokens),
                                   json={"prompt": "a lighthouse at dawn"})
    assert queued.status_code == 202, queued.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = await dev.client.get(f"{API}/images/{queued.json()['id']}",
                                     headers=bearer(tokens))
        if shown.json()["status"] == "ready":
            body: dict[str, Any] = shown.json()
            return body
        await asyncio.sleep(0.1)
    raise AssertionError("the image never became ready")


async def ready_export(dev: Dev, tokens: dict[str, Any]) -> dict[str, Any]:
    asked = await dev.client.post(f"{API}/me/exports", headers=bearer(tokens))
    assert asked.status_code == 202, asked.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = await dev.client.get(f"{API}/me/exports/{asked.json()['id']}",
                                     headers=bearer(tokens))
        if shown.json()["status"] == "ready":
            body: dict[str, Any] = shown.json()
            return body
        await asyncio.sleep(0.1)
    raise AssertionError("the export never became ready")


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = WITHIN) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def delete_me(dev: Dev, tokens: dict[str, Any], body: Any = None) -> httpx.Response:
    return await dev.client.request(
        "DELETE", f"{API}/me", headers=bearer(tokens),
        **({"json": body} if body is not None else {}))


async def test_a_member_deletes_the_account_and_everything_goes(dev: Dev) -> None:
    address = new_email()
    tokens = (await member(dev, address))["tokens"]
    user_id = (await dev.client.get(f"{API}/me", headers=bearer(tokens))).json()["id"]
    image = await ready_image(dev, tokens)
    assert (await dev.client.get(image["url"])).status_code == 200
    export = await ready_export(dev, tokens)
    assert (await dev.client.get(export["url"])).status_code == 200
    code = (await dev.client.post(f"{API}/transfer-codes", headers=bearer(tokens))).json()["code"]
    realtime = (await dev.client.post(f"{API}/realtime/token", headers=bearer(tokens))).json()

    async with contextlib.AsyncExitStack() as stack:
        socket = await stack.enter_async_context(
            connect(f"{realtime['url']}?token={realtime['token']}", open_timeout=10))

        missing = await delete_me(dev, tokens)
        assert missing.status_code == 422 and error_code(missing) == "password_required"
        wrong = await delete_me(dev, tokens, {"password": "not the password"})
        assert wrong.status_code == 401 and error_code(wrong) == "invalid_credentials"
        assert (await dev.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 200

        deleted = await delete_me(dev, tokens, {"password": PASSWORD})
        assert deleted.status_code == 202, deleted.text

        async def socket_closed() -> bool:
            return socket.close_code == 1008

        assert await eventually(socket_closed, 2.0), socket.close_code

    assert (await dev.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 401

    async def objects_gone() -> bool:
        return ((await dev.client.get(image["url"])).status_code
                == (await dev.client.get(export["url"])).status_code == 404)

    assert await eventually(objects_gone)
    redeemed = await dev.client.post(f"{API}/transfer-codes/redeem", json={
        "code": code, "device_id": device_id(), "platform": "ios"})
    assert error_code(redeemed) == "invalid_transfer_code", redeemed.text

    again = await delete_me(dev, tokens, {"password": PASSWORD})
    assert again.status_code == 401  # the token died with the account; nothing else happens

    registered = await register(dev.client, address, PASSWORD, device_id())
    assert registered.status_code == 201, registered.text
    assert registered.json()["user"]["id"] != user_id
    assert (await login(dev.client, address, "correct horse battery staple", device_id())
            ).status_code == 403  # the new account, not yet confirmed: the old one is gone

    [entry] = await dev.audit(user_id)
    assert entry["action"] == "account.deleted"
    assert entry["details"] == {"kind": "member", "via": "app"}
    assert address not in repr(entry) and entry["source_ip"] is None


async def test_a_guest_deletes_with_the_bearer_alone(dev: Dev) -> None:
    guest = await new_guest(dev.client)
    image = await ready_image(dev, guest["tokens"])
    deleted = await delete_me(dev, guest["tokens"])
    assert deleted.status_code == 202, deleted.text
    assert (await dev.client.get(f"{API}/me", headers=bearer(guest["tokens"]))).status_code == 401
    refreshed = await dev.client.post(f"{API}/sessions/refresh", json={
        "refresh_token": guest["tokens"]["refresh_token"], "device_id": "x" * 12})
    assert refreshed.status_code == 401

    async def object_gone() -> bool:
        return (await dev.client.get(image["url"])).status_code == 404

    assert await eventually(object_gone)
    [entry] = await dev.audit(guest["user"]["id"])
    assert entry["details"] == {"kind": "guest", "via": "app"}


async def test_a_wrong_password_counts_toward_the_lock_out(dev: Dev) -> None:
    address = new_email()
    tokens = (await member(dev, address))["tokens"]
    answers = [await delete_me(dev, tokens, {"password": f"wrong-{n}"}) for n in range(6)]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    assert answers[5].status_code == 429 and "Retry-After" in answers[5].headers
    assert (await dev.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 200


async def test_a_bad_body_is_a_422(dev: Dev) -> None:
    tokens = (await member(dev, new_email()))["tokens"]
    for body in ({"password": 7}, [1], {"password": "x" * 300}):
        answer = await delete_me(dev, tokens, body)
        assert answer.status_code in (400, 422), (body, answer.text)
        assert "error" in answer.json()
    assert (await dev.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 200


class Forms(HTMLParser):
    """The page's forms: action and the values of their inputs."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append({"action": found["action"], "fields": {}})
        elif tag == "input" and self.forms and found.get("type") != "checkbox":
            self.forms[-1]["fields"][found["name"]] = found.get("value") or ""


PAGE = f"{API}/account-deletion"


async def open_page(client: httpx.AsyncClient) -> dict[str, Any]:
    page = await client.get(PAGE)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text and "frame-ancestors 'none'" in page.headers[
        "content-security-policy"]
    [form] = Forms(page.text).forms
    return form


async def ask_for_code(client: httpx.AsyncClient, address: str) -> httpx.Response:
    form = await open_page(client)
    return await client.post(form["action"], data={**form["fields"], "email": address})


async def test_the_web_page_deletes_a_member_with_the_mailed_code(dev: Dev) -> None:
    address = new_email()
    tokens = (await member(dev, address))["tokens"]
    user_id = (await dev.client.get(f"{API}/me", headers=bearer(tokens))).json()["id"]
    image = await ready_image(dev, tokens)
    async with httpx.AsyncClient(base_url=dev.base_url) as browser:
        sent = await ask_for_code(browser, address)
        assert sent.status_code == 200 and "we sent a 6-digit code" in sent.text
        [confirm] = Forms(sent.text).forms
        code = await dev.mailed_code(address, "deletion")

        unticked = await browser.post(confirm["action"], data={
            **confirm["fields"], "code": code})
        assert unticked.status_code == 422
        [confirm] = Forms(unticked.text).forms
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        refused = await browser.post(confirm["action"], data={
            **confirm["fields"], "code": wrong, "confirm": "yes"})
        assert refused.status_code == 422 and "not right" in refused.text
        assert (await dev.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 200

        [confirm] = Forms(refused.text).forms
        done = await browser.post(confirm["action"], data={
            **confirm["fields"], "code": code, "confirm": "yes"})
        assert done.status_code == 200 and "has been deleted" in done.text

        replay = await browser.post(f"{PAGE}/confirm", data={
            "csrf": browser.cookies.get("atelier_deletion_csrf") or "", "email": address,
            "code": code, "confirm": "yes"})
        assert replay.status_code == 422  # single use; the account is gone anyway

    assert (await dev.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 401

    async def object_gone() -> bool:
        return (await dev.client.get(image["url"])).status_code == 404

    assert await eventually(object_gone)
    [entry] = await dev.audit(user_id)
    assert entry["details"] == {"kind": "member", "via": "web page"}
    assert (await register(dev.client, address, PASSWORD, device_id())).status_code == 201


async def test_the_web_page_answers_alike_for_any_address(dev: Dev) -> None:
    address = new_email()
    await member(dev, address)
    async with httpx.AsyncClient(base_url=dev.base_url) as browser:
        known = await ask_for_code(browser, address)
        unknown = await ask_for_code(browser, "nobody-" + address)
    assert known.status_code == unknown.status_code == 200
    assert (known.text.replace(address, "")
            == unknown.text.replace("nobody-" + address, "").replace(
                Forms(unknown.text).forms[0]["fields"]["csrf"],
                Forms(known.text).forms[0]["fields"]["csrf"]))
    await dev.mailed_code(address, "deletion")
    with pytest.raises(AssertionError):
        dev.code_mailed_to("nobody-" + address, "deletion")


async def test_the_web_page_refuses_forged_posts_and_escapes_what_it_echoes(dev: Dev) -> None:
    async with httpx.AsyncClient(base_url=dev.base_url) as browser:
        forged = await browser.post(PAGE, data={"email": "victim@example.com", "csrf": "x"})
        assert forged.status_code == 403
        await open_page(browser)  # a cookie, but not the form's token
        other = await browser.post(PAGE, data={"email": "a@example.com", "csrf": "guess"})
        assert other.status_code == 403
        form = await open_page(browser)
        hostile = await browser.post(form["action"], data={
            **form["fields"], "email": '"><script>alert(1)</script>@x.com'})
        assert hostile.status_code == 422 and "<script>" not in hostile.text
        form = Forms(hostile.text).forms[0]
        confirm = await browser.post(f"{PAGE}/confirm", data={
            **form["fields"], "email": '<b>x</b>@example.com', "code": "000000",
            "confirm": "yes"})
        assert confirm.status_code == 422 and "<b>x</b>" not in confirm.text


async def test_the_web_page_limits_codes_per_address(dev: Dev) -> None:
    address = new_email()
    await member(dev, address)
    async with httpx.AsyncClient(base_url=dev.base_url) as browser:
        answers = [(await ask_for_code(browser, address)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


async def test_the_web_page_limits_requests_per_address_of_the_sender(dev: Dev) -> None:
    async with httpx.AsyncClient(base_url=dev.base_url) as browser:
        answers = [(await ask_for_code(browser, new_email())).status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]
