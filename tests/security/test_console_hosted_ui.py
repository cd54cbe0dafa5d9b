"""The console's Cognito hosted UI sign-in against a local fake authorization server:
authorization code with PKCE, state and nonce, then the admins-group check of the admin
token verifier on the access token it yields."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from application.ports.admin import AdminTokenVerifier
from domain.admins.model import NotAnAdmin
from entrypoints.console.hosted_ui import HostedUi, HostedUiRefused, PendingSignIn
from entrypoints.wiring.builders import build_admin_tokens
from entrypoints.wiring.settings import Settings
from tests.support.fake_cognito_oauth import CLIENT_ID, FakeHostedUi, running_fake_hosted_ui

CONSOLE = "http://127.0.0.1:8000"


def admin_token_verifier(settings: Settings) -> AbstractAsyncContextManager[AdminTokenVerifier]:
    """The admin API's verifier for `admin_auth = cognito` (no key ring or database used)."""
    return asynccontextmanager(build_admin_tokens)(settings, None, None)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHostedUi]:
    with running_fake_hosted_ui() as running:
        running.add_user("ada", "admins")
        running.add_user("bob")  # a member of the pool, not of `admins`
        yield running


@pytest.fixture
def settings(fake: FakeHostedUi, tmp_path: Path) -> Settings:
    fake.nonce_override = None
    return Settings.model_validate({"data_dir": tmp_path, **fake.settings(CONSOLE)})


@pytest.fixture
async def hosted_ui(settings: Settings) -> AsyncIterator[HostedUi]:
    ui = HostedUi(settings)
    yield ui
    await ui.aclose()


async def authorize(fake: FakeHostedUi, url: str, username: str = "ada") -> tuple[str, str]:
    """The browser's trip to the hosted UI and back: the code and state of the callback."""
    fake.auto_approve_as = username
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code in (302, 303), response.text
    back = urlsplit(response.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{CONSOLE}/auth/callback"
    query = parse_qs(back.query)
    return query["code"][0], query["state"][0]


def test_the_authorize_address_asks_for_a_code_with_pkce(hosted_ui: HostedUi,
                                                         fake: FakeHostedUi) -> None:
    url, pending = hosted_ui.begin()
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake.base_url}/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{CONSOLE}/auth/callback"
    assert query["scope"] == "openid email profile"
    assert query["state"] == pending.state and query["nonce"] == pending.nonce
    assert query["code_challenge_method"] == "S256"
    assert pending.code_verifier not in url and len(pending.code_verifier) >= 43
    _, second = hosted_ui.begin()
    assert len({pending.state, second.state, pending.nonce, second.nonce}) == 4


async def test_an_admin_signs_in_and_gets_an_admin_access_token(
        hosted_ui: HostedUi, fake: FakeHostedUi, settings: Settings) -> None:
    url, pending = hosted_ui.begin()
    code, state = await authorize(fake, url)
    access_token = await hosted_ui.complete(pending, code, state)
    async with admin_token_verifier(settings) as admin_tokens:
        admin = await admin_tokens.verify(access_token)
    assert admin.subject == fake.users["ada"].sub


async def test_a_pool_member_outside_admins_is_not_an_admin(
        hosted_ui: HostedUi, fake: FakeHostedUi, settings: Settings) -> None:
    url, pending = hosted_ui.begin()
    code, state = await authorize(fake, url, "bob")
    access_token = await hosted_ui.complete(pending, code, state)  # the pool vouches for bob
    async with admin_token_verifier(settings) as admin_tokens:
        with pytest.raises(NotAnAdmin):
            await admin_tokens.verify(access_token)


async def test_another_pkce_verifier_is_refused(hosted_ui: HostedUi, fake: FakeHostedUi) -> None:
    url, pending = hosted_ui.begin()
    code, state = await authorize(fake, url)
    stolen = PendingSignIn(pending.state, hosted_ui.begin()[1].code_verifier, pending.nonce)
    with pytest.raises(HostedUiRefused, match="code refused"):
        await hosted_ui.complete(stolen, code, state)


async def test_a_state_this_browser_did_not_start_is_refused_before_the_code_is_spent(
        hosted_ui: HostedUi, fake: FakeHostedUi) -> None:
    url, pending = hosted_ui.begin()
    code, _ = await authorize(fake, url)
    before = fake.token_requests
    for state in ("", "x", pending.state[:-1], pending.state + "x", hosted_ui.begin()[1].state):
        with pytest.raises(HostedUiRefused, match="state"):
            await hosted_ui.complete(pending, code, state)
    assert fake.token_requests == before
    assert await hosted_ui.complete(pending, code, pending.state)  # the code was kept


async def test_a_code_is_used_once(hosted_ui: HostedUi, fake: FakeHostedUi) -> None:
    url, pending = hosted_ui.begin()
    code, state = await authorize(fake, url)
    assert await hosted_ui.complete(pending, code, state)
    with pytest.raises(HostedUiRefused, match="code refused"):
        await hosted_ui.complete(pending, code, state)


async def test_twenty_replays_at_once_yield_one_sign_in(
        hosted_ui: HostedUi, fake: FakeHostedUi) -> None:
    url, pending = hosted_ui.begin()
    code, state = await authorize(fake, url)
    results = await asyncio.gather(*(hosted_ui.complete(pending, code, state)
                                     for _ in range(20)), return_exceptions=True)
    assert sum(isinstance(r, str) for r in results) == 1
    assert sum(isinstance(r, HostedUiRefused) for r in results) == 19


async def test_an_id_token_for_another_nonce_is_refused(
        hosted_ui: HostedUi, fake: FakeHostedUi) -> None:
    url, pending = hosted_ui.begin()
    code, state = await authorize(fake, url)
    fake.nonce_override = "a-nonce-from-another-sign-in"
    with pytest.raises(HostedUiRefused, match="nonce"):
        await hosted_ui.complete(pending, code, state)


async def test_an_id_token_of_another_issuer_or_audience_is_refused(
        fake: FakeHostedUi, tmp_path: Path) -> None:
    for override in ({"admin_cognito_issuer": "https://cognito-idp.example/other"},
                     {"console_cognito_client_id": "another-client"}):
        settings = Settings.model_validate(
            {"data_dir": tmp_path, **fake.settings(CONSOLE), **override})
        ui = HostedUi(settings)
        try:
            url, pending = ui.begin()
            code, state = await authorize(fake, url)
            with pytest.raises(HostedUiRefused):
                await ui.complete(pending, code, state)
        finally:
            await ui.aclose()


async def test_an_unreachable_hosted_ui_is_a_refusal(tmp_path: Path) -> None:
    settings = Settings.model_validate({
        "data_dir": tmp_path, "console_cognito_domain": "http://127.0.0.1:9",
        "console_cognito_client_id": CLIENT_ID})
    ui = HostedUi(settings)
    try:
        _, pending = ui.begin()
        with pytest.raises(HostedUiRefused, match="unreachable"):
            await ui.complete(pending, "a-code", pending.state)
    finally:
        await ui.aclose()
