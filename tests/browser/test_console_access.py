"""Who reaches the console: nobody from outside the admin allow-list, and in production
(the Cognito hosted UI) only members of the pool's `admins` group."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.support import (
    LiveServer,
    free_port,
    live_dev_server,
    offline_page,
    screenshot,
    serious_violations,
)
from tests.support.fake_cognito_oauth import FakeHostedUi, running_fake_hosted_ui

# A live server and Chromium on a shared machine: starting them takes a while.
pytestmark = pytest.mark.timeout(600)


def test_a_browser_outside_the_allow_list_is_refused(
        browser: Browser, tmp_path: Path) -> None:
    # The browser connects from 127.0.0.1, which this allow-list does not hold.
    with live_dev_server(tmp_path, admin_allowed_cidrs="10.0.0.0/8") as server:
        offline = offline_page(browser)
        page = offline.page
        try:
            for path in ("/", "/sign-in", "/users", "/static/console.css"):
                response = page.goto(server.base_url + path)
                assert response is not None and response.status == 403, path
            expect(page.locator("body")).not_to_contain_text("Sign in")
            refused = httpx.post(f"{server.base_url}/sign-in",
                                 data={"email": "x@example.com", "password": "x"})
            assert refused.status_code == 403
            # The phones' API is not the console's: it still answers.
            assert httpx.get(f"{server.base_url}/v1/api/schema/openapi.json").status_code == 200
        finally:
            page.context.close()


@pytest.fixture(scope="module")
def hosted_ui() -> Iterator[FakeHostedUi]:
    with running_fake_hosted_ui() as fake:
        fake.add_user("ada", "admins")
        fake.add_user("bob")
        yield fake


@pytest.fixture(scope="module")
def cognito_console(hosted_ui: FakeHostedUi,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    port = free_port()
    settings = hosted_ui.settings(f"http://127.0.0.1:{port}")
    with live_dev_server(tmp_path_factory.mktemp("cognito"), port=port,
                         **{k: str(v) for k, v in settings.items()}) as server:
        yield server


@pytest.mark.parametrize(("username", "admitted"), [("ada", True), ("bob", False)])
def test_the_hosted_ui_signs_in_members_of_admins_only(
        browser: Browser, cognito_console: LiveServer, hosted_ui: FakeHostedUi,
        username: str, admitted: bool) -> None:
    hosted_ui.auto_approve_as = None
    offline = offline_page(browser)
    page = offline.page
    try:
        page.goto(f"{cognito_console.base_url}/sign-in")
        if admitted:
            assert serious_violations(page) == []
            screenshot(page, "sign-in-cognito")
        page.get_by_role("link", name="Sign in with your organisation").click()
        expect(page).to_have_url(re.compile("^" + re.escape(f"{hosted_ui.base_url}/oauth2/")))
        page.get_by_label("Username").fill(username)
        page.get_by_role("button", name="Sign in").click()
        if admitted:
            expect(page).to_have_url(f"{cognito_console.base_url}/")
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        else:
            expect(page.get_by_role("alert")).to_contain_text("not a console admin")
            page.goto(f"{cognito_console.base_url}/users")
            expect(page).to_have_url(re.compile("/sign-in"))
        assert offline.blocked == [] and offline.dialogs == []
    finally:
        page.context.close()
