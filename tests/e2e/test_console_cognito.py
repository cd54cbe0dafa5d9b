"""The console's sign-in in Cognito mode, over HTTP against a local fake hosted UI: the
organisation button, the round trip with PKCE, the `admins` check, and refusals."""

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.console import ConsoleStack, running_console_stack
from tests.support.fake_cognito_oauth import FakeHostedUi, running_fake_hosted_ui

PUBLIC = "http://console.atelier.test"
"""The console's public address as the hosted UI knows it; the test maps it to the stack."""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHostedUi]:
    with running_fake_hosted_ui() as running:
        running.add_user("ada", "admins")
        running.add_user("bob")  # in the pool, not in `admins`
        yield running


@pytest.fixture
async def stack(
    tmp_path: Path, database_url: str, fake: FakeHostedUi
) -> AsyncIterator[ConsoleStack]:
    async with running_console_stack(tmp_path / "data", database_url,
                                     **fake.settings(PUBLIC)) as running:
        yield running


async def round_trip(stack: ConsoleStack, fake: FakeHostedUi, username: str) -> httpx.Response:
    """The organisation button, the hosted UI (approving as `username`) and the callback."""
    start = await stack.client.get("/auth/login")
    assert start.status_code == 302, start.text
    pending = [c for c in start.headers.get_list("set-cookie")
               if c.startswith("atelier_console_signin=")]
    assert pending and "samesite=lax" in pending[0].lower() and "httponly" in pending[0].lower()
    fake.auto_approve_as = username
    async with httpx.AsyncClient() as identity_provider_site:
        approved = await identity_provider_site.get(start.headers["location"])
    assert approved.status_code in (302, 303), approved.text
    back = urlsplit(approved.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{PUBLIC}/auth/callback"
    return await stack.client.get(f"/auth/callback?{back.query}")


async def test_an_admin_of_the_pool_signs_in_through_the_hosted_ui(
    stack: ConsoleStack, fake: FakeHostedUi,
) -> None:
    form = await stack.client.get("/sign-in")
    assert "Sign in with your organisation" in form.text and 'name="password"' not in form.text

    arrived = await round_trip(stack, fake, "ada")
    assert arrived.status_code == 200, arrived.text
    assert re.search(r'http-equiv="refresh" content="0;url=/"', arrived.text)
    assert "atelier_console=" in arrived.headers.get("set-cookie", "")
    home = await stack.client.get("/")
    assert home.status_code == 200 and "Overview" in home.text
    log = (await stack.client.get("/audit", params={"action": "console.signed_in"})).text
    assert "<code>console.signed_in</code>" in log and "cognito:" in log


async def test_a_pool_member_outside_admins_is_refused(
    stack: ConsoleStack, fake: FakeHostedUi,
) -> None:
    arrived = await round_trip(stack, fake, "bob")
    assert arrived.status_code == 403 and "not a console admin" in arrived.text
    assert (await stack.client.get("/")).status_code == 303


async def test_a_callback_this_browser_did_not_start_is_refused(
    stack: ConsoleStack, fake: FakeHostedUi,
) -> None:
    start = await stack.client.get("/auth/login")
    fake.auto_approve_as = "ada"
    async with httpx.AsyncClient() as identity_provider_site:
        approved = await identity_provider_site.get(start.headers["location"])
    query = urlsplit(approved.headers["location"]).query
    stranger = stack.browser()  # no pending sign-in cookie
    refused = await stranger.get(f"/auth/callback?{query}")
    assert refused.status_code == 401 and "did not complete" in refused.text
    forged_state = re.sub(r"state=[^&]+", "state=forged", query)
    wrong = await stack.client.get(f"/auth/callback?{forged_state}")
    assert wrong.status_code == 401
    assert (await stack.client.get("/")).status_code == 303


async def test_local_passwords_are_refused_in_cognito_mode(stack: ConsoleStack) -> None:
    await stack.create_admin()
    await stack.client.get("/sign-in")  # no password form here; its token is in the cookie
    answer = await stack.client.post("/sign-in", data={
        "csrf_token": stack.client.cookies.get("atelier_console_form") or "",
        "email": "root@atelier.test", "password": "admin-password-1"})
    assert answer.status_code == 403 and "organisation" in answer.text
    assert (await stack.client.get("/")).status_code == 303
