"""The web console's guards over HTTP, on SQLite and PostgreSQL: sign-in without telling
who is an admin, the session cookie and its limits, CSRF, the network allow-list, security
headers, and the sign-in lock-out and sign-out under concurrent requests."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from domain.shared.clock import utcnow
from entrypoints.wiring.di import resolve
from tests.support.console import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ConsoleStack,
    csrf_of,
    running_console_stack,
)
from tests.support.phone import API, bearer, new_guest

CONCURRENT = 20


@pytest.fixture
async def stack(tmp_path: Path, database_url: str) -> AsyncIterator[ConsoleStack]:
    async with running_console_stack(tmp_path / "data", database_url) as running:
        await running.create_admin()
        yield running


def set_cookie(response: httpx.Response, name: str) -> str:
    for line in response.headers.get_list("set-cookie"):
        if line.startswith(f"{name}="):
            return line
    raise AssertionError(f"no {name} cookie set")


async def sql(stack: ConsoleStack, statement: str, **params: Any) -> None:
    engine = await resolve(stack.infrastructure.engine)
    async with engine.begin() as connection:
        await connection.execute(text(statement), params)


async def test_a_wrong_password_or_unknown_admin_gets_the_same_error_and_no_session(
    stack: ConsoleStack,
) -> None:
    wrong = await stack.sign_in(password="not-the-password")
    unknown = await stack.sign_in(email="nobody@atelier.test")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "That e-mail and password do not match an admin account." in response.text
        assert "atelier_console=" not in response.headers.get("set-cookie", "")
    assert (await stack.client.get("/")).status_code == 303
    ok = await stack.sign_in()
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert (await stack.client.get("/")).status_code == 200


async def test_sign_in_without_its_form_token_is_refused(stack: ConsoleStack) -> None:
    browser = stack.browser()
    refused = await browser.post("/sign-in", data={
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert (await browser.get("/")).status_code == 303


async def test_the_session_cookie_is_httponly_strict_and_secure_off_loopback_http(
    tmp_path: Path, database_url: str,
) -> None:
    async with running_console_stack(tmp_path / "a", database_url,
                                     loopback_http_cookies=False) as strict:
        await strict.create_admin()
        form = await strict.client.get("/sign-in")
        token = csrf_of(form.text)
        assert "secure" in set_cookie(form, "atelier_console_form").lower()
        # httpx keeps Secure cookies off plain http, as a browser does: sent by hand here.
        answer = await strict.client.post("/sign-in", headers={
            "Cookie": f"atelier_console_form={token}"}, data={
            "csrf_token": token, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        cookie = set_cookie(answer, "atelier_console").lower()
        for attribute in ("httponly", "secure", "samesite=strict", "path=/"):
            assert attribute in cookie, cookie
        assert re.search(r"max-age=43200", cookie), cookie  # the absolute limit, 12 h
    # atelier dev, plain http on 127.0.0.1: the same cookie without Secure (kept there).
    async with running_console_stack(tmp_path / "b", database_url) as dev:  # same admin
        cookie = set_cookie(await dev.sign_in(), "atelier_console").lower()
        assert "secure" not in cookie and "samesite=strict" in cookie and "httponly" in cookie


async def test_a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    stack: ConsoleStack,
) -> None:
    guest = await new_guest(stack.client)
    user_id = guest["user"]["id"]
    csrf = await stack.signed_in()
    for data in ({"reason": "x"}, {"reason": "x", "csrf_token": "0" * len(csrf)},
                 {"reason": "x", "csrf_token": ""}):
        refused = await stack.client.post(f"/users/{user_id}/disable", data=data)
        assert refused.status_code == 403, refused.text
        assert "text/html" in refused.headers["content-type"]
        assert "did not come from the console" in refused.text
    for path in ("/keys/rotate", "/broadcast", "/sign-out"):
        assert (await stack.client.post(path, data={"message": "hi"})).status_code == 403
    assert (await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))).status_code \
        == 200
    assert "<code>user.disabled</code>" not in (await stack.client.get("/audit")).text
    assert (await stack.client.get("/")).status_code == 200  # still signed in
    # Another admin's token is no good either: it belongs to its session.
    other = stack.browser()
    other_csrf = await stack.signed_in(other)
    assert other_csrf != csrf
    crossed = await stack.client.post(f"/users/{user_id}/disable", data={
        "reason": "x", "csrf_token": other_csrf})
    assert crossed.status_code == 403


async def test_every_answer_carries_the_security_headers(stack: ConsoleStack) -> None:
    await stack.signed_in()
    for path in ("/sign-in", "/", "/users", "/no-such-page", "/static/console.css"):
        headers = (await stack.client.get(path)).headers
        csp = headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                          "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"):
            assert directive in csp, (path, csp)
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    page = (await stack.client.get("/")).text
    assert "<script>" not in page and " style=" not in page and "<style" not in page


async def test_outside_the_allow_list_everything_but_health_is_refused(
    tmp_path: Path, database_url: str,
) -> None:
    async with running_console_stack(tmp_path / "data", database_url,
                                     admin_allowed_cidrs="10.20.0.0/16") as far:
        for path in ("/", "/sign-in", "/static/console.css", "/no-such-page"):
            refused = await far.client.get(path, headers={"X-Forwarded-For": "10.20.1.1"})
            assert refused.status_code == 403, path
            assert refused.headers["content-type"].startswith("text/html")
            assert "not reachable from this network address" in refused.text
            assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
        posted = await far.client.post("/sign-in", data={"email": ADMIN_EMAIL})
        assert posted.status_code == 403
        assert (await far.client.get("/healthz")).status_code == 200
        assert (await far.client.get("/readyz")).status_code == 200
        # The mobile API is not the console's to guard.
        assert (await far.client.get("/.well-known/jwks.json")).status_code == 200
    # Behind one trusted proxy, only the entry that proxy appended counts.
    async with running_console_stack(tmp_path / "proxied", database_url,
                                     admin_allowed_cidrs="10.20.0.0/16",
                                     trusted_proxy_hops=1) as proxied:
        forged = await proxied.client.get("/sign-in", headers={
            "X-Forwarded-For": "10.20.1.1, 203.0.113.9"})
        assert forged.status_code == 403
        allowed = await proxied.client.get("/sign-in", headers={
            "X-Forwarded-For": "203.0.113.9, 10.20.1.1"})
        assert allowed.status_code == 200


async def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(
    stack: ConsoleStack,
) -> None:
    csrf = await stack.signed_in()
    stolen = stack.client.cookies.get("atelier_console")
    assert stolen
    out = await stack.client.post("/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"].startswith("/sign-in")
    assert 'atelier_console=""' in out.headers["set-cookie"] \
        or "max-age=0" in out.headers["set-cookie"].lower()
    replay = stack.browser(cookies={"atelier_console": stolen})
    again = await replay.get("/")
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in")


async def test_an_idle_session_and_an_old_one_end(stack: ConsoleStack) -> None:
    await stack.signed_in()
    assert (await stack.client.get("/")).status_code == 200
    await sql(stack, "UPDATE console_sessions SET last_seen_at = :at",
              at=utcnow() - timedelta(minutes=31))
    idle = await stack.client.get("/users")
    assert idle.status_code == 303 and "notice=ended" in idle.headers["location"]

    fresh = stack.browser()
    await stack.signed_in(fresh)
    await sql(stack, "UPDATE console_sessions SET expires_at = :at",
              at=utcnow() - timedelta(seconds=1))
    old = await fresh.get("/")
    assert old.status_code == 303 and "notice=ended" in old.headers["location"]
    notice = await fresh.get(old.headers["location"])
    assert "Your session ended" in notice.text


async def test_a_session_in_use_stays_alive_past_the_idle_limit(stack: ConsoleStack) -> None:
    await stack.signed_in()
    await sql(stack, "UPDATE console_sessions SET last_seen_at = :at",
              at=utcnow() - timedelta(minutes=29))
    assert (await stack.client.get("/")).status_code == 200  # counts as activity
    await sql(stack, "UPDATE console_sessions SET created_at = :at",
              at=utcnow() - timedelta(hours=1))
    assert (await stack.client.get("/users")).status_code == 200


async def test_a_disabled_admin_is_signed_out(stack: ConsoleStack) -> None:
    await stack.signed_in()
    await sql(stack, "UPDATE admin_accounts SET disabled = :yes", yes=True)
    ended = await stack.client.get("/")
    assert ended.status_code == 303 and "notice=ended" in ended.headers["location"]
    refused = await stack.sign_in()
    assert refused.status_code == 401


async def test_the_sign_in_lock_out_holds_under_concurrent_guesses(
    tmp_path: Path, database_url: str,
) -> None:
    """Twenty wrong passwords at once, each from its own address: the account-wide limit
    lets five be checked; the others, and then the right password, meet the lock."""
    async with running_console_stack(tmp_path / "data", database_url,
                                     lockout_account_threshold=5) as locked:
        await locked.create_admin()
        browsers = [locked.browser(transport=httpx.AsyncHTTPTransport(
            local_address=f"127.0.0.{10 + i}")) for i in range(CONCURRENT)]
        forms = [await b.get("/sign-in") for b in browsers]

        async def guess(browser: httpx.AsyncClient, form: httpx.Response) -> int:
            answer = await browser.post("/sign-in", data={
                "csrf_token": csrf_of(form.text), "email": ADMIN_EMAIL,
                "password": "wrong-password"})
            return answer.status_code

        statuses = await asyncio.gather(*(guess(b, f) for b, f in zip(browsers, forms,
                                                                        strict=True)))
        assert statuses.count(401) == 5, statuses
        assert statuses.count(429) == CONCURRENT - 5, statuses
        right = await locked.sign_in()
        assert right.status_code == 429 and "Too many attempts" in right.text


async def test_concurrent_sign_outs_of_one_session_end_it_once(stack: ConsoleStack) -> None:
    csrf = await stack.signed_in()
    cookie = stack.client.cookies.get("atelier_console")
    browsers = [stack.browser(cookies={"atelier_console": cookie},
                              transport=httpx.AsyncHTTPTransport(
                                  local_address=f"127.0.0.{40 + i}"))
                for i in range(CONCURRENT)]
    answers = await asyncio.gather(*(b.post("/sign-out", data={"csrf_token": csrf})
                                     for b in browsers))
    assert all(a.status_code == 303 for a in answers)
    assert sum(a.headers["location"].startswith("/sign-in?notice=signed-out")
               for a in answers) >= 1
    fresh = stack.browser()
    await stack.signed_in(fresh)
    log = (await fresh.get("/audit", params={"action": "console.signed_out"})).text
    assert log.count("<code>console.signed_out</code>") == 1
