"""The web console in Chromium against a live `atelier dev`, with every request to a host
other than loopback blocked: what an operator does, and what it changes for the phones."""

import re
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.phones import closed_within, new_member, received_within
from tests.browser.support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    LiveServer,
    OfflinePage,
    offline_page,
)

# A live server and Chromium on a shared machine: starting them takes a while.
pytestmark = pytest.mark.timeout(600)


def sign_in(page: Page, server: LiveServer, password: str = ADMIN_PASSWORD) -> None:
    page.goto(f"{server.base_url}/sign-in")
    page.get_by_label("E-mail").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def console(browser: Browser, server: LiveServer) -> Iterator[OfflinePage]:
    """A signed-in admin's tab; at the end nothing was asked of another host and no
    dialog opened."""
    offline = offline_page(browser)
    sign_in(offline.page, server)
    expect(offline.page).to_have_url(f"{server.base_url}/")
    yield offline
    offline.page.context.close()
    assert offline.blocked == [] and offline.dialogs == []


def audit_shows(page: Page, server: LiveServer, action: str, target: str) -> None:
    page.goto(f"{server.base_url}/audit?{urlencode({'target': target})}")
    row = page.locator("tbody tr", has=page.locator("code", has_text=action))
    expect(row.first).to_be_visible()
    expect(row.first).to_contain_text(ADMIN_EMAIL)


def test_sign_in_wrong_password_then_sign_out(browser: Browser, server: LiveServer) -> None:
    offline = offline_page(browser)
    page = offline.page
    try:
        page.goto(f"{server.base_url}/users")
        expect(page).to_have_url(re.compile(r"/sign-in"))  # not signed in: sent to sign in
        sign_in(page, server, password="not-the-password")
        expect(page.get_by_role("alert")).to_contain_text("do not match")
        sign_in(page, server)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator(".who")).to_have_text(ADMIN_EMAIL)
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/sign-in"))
        page.goto(f"{server.base_url}/")
        expect(page).to_have_url(re.compile(r"/sign-in"))
        assert offline.blocked == [] and offline.dialogs == []
        sign_in(page, server)
        for action in ("console.signed_in", "console.signed_out", "admin.login_failed"):
            page.goto(f"{server.base_url}/audit?action={action}")
            expect(page.locator("tbody tr").first).to_contain_text(ADMIN_EMAIL)
    finally:
        page.context.close()


def test_search_and_disable_a_user_ends_their_token_and_socket(
        console: OfflinePage, server: LiveServer) -> None:
    phone = new_member(server.base_url, "disable")
    socket = phone.socket()
    page = console.page
    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_label("E-mail (start of it) or user id").fill(phone.email[:-4])  # a prefix
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=phone.email).click()
    page.get_by_label("Reason").fill("spam from the browser test")
    page.get_by_role("button", name="Disable user").click()
    expect(page.locator(".badge.user-disabled").first).to_be_visible()
    assert phone.get("/me").status_code == 401
    assert closed_within(socket)
    audit_shows(page, server, "user.disabled", phone.user_id)
    expect(page.locator("tbody")).to_contain_text("spam from the browser test")


def test_sign_a_device_out(console: OfflinePage, server: LiveServer) -> None:
    phone = new_member(server.base_url, "device")
    page = console.page
    page.goto(f"{server.base_url}/users/{phone.user_id}")
    row = page.locator("tbody tr", has_text=phone.device_id)
    row.get_by_role("link", name="Sign out…").click()
    page.get_by_label("Reason").fill("lost phone")
    page.get_by_role("button", name="Sign the device out").click()
    expect(page.locator("tbody tr", has_text=phone.device_id)).to_contain_text("signed out")
    assert phone.get("/me").status_code == 401
    audit_shows(page, server, "device.revoked", f"{phone.user_id}/{phone.device_id}")


def test_hide_and_delete_an_image(console: OfflinePage, server: LiveServer) -> None:
    phone = new_member(server.base_url, "artist")
    image = phone.request_image("a lighthouse at dusk")
    assert image["status"] == "ready", image
    page = console.page
    page.goto(f"{server.base_url}/images?owner={phone.user_id}")
    tile = page.locator(".tile", has_text="a lighthouse at dusk")
    thumbnail = tile.locator("img")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0")
    picture = str(thumbnail.get_attribute("src"))
    picture_url = picture if picture.startswith("http") else server.base_url + picture
    assert httpx.get(picture_url).status_code == 200
    tile.get_by_role("button", name="Hide").click()
    expect(page.locator(".tile", has_text="a lighthouse at dusk")).to_contain_text("hidden")
    page.locator(".tile", has_text="a lighthouse at dusk").get_by_role(
        "link", name="Delete…").click()
    page.get_by_label("Reason").fill("breaks the rules")
    page.get_by_role("button", name="Delete the image").click()
    expect(page.locator(".tile", has_text="a lighthouse at dusk").locator("img")).to_have_count(0)
    assert httpx.get(picture_url).status_code in (403, 404)  # the object is gone
    assert phone.get(f"/images/{image['id']}").status_code == 404
    audit_shows(page, server, "image.hidden", image["id"])
    audit_shows(page, server, "image.deleted", image["id"])


def test_rotate_and_revoke_a_key_after_typing_its_id(
        console: OfflinePage, server: LiveServer) -> None:
    page = console.page
    page.get_by_role("link", name="Keys", exact=True).click()
    page.get_by_role("button", name="Rotate now").click()
    expect(page.get_by_role("status")).to_be_visible()
    upcoming = page.locator(".timeline-item.state-next .kid")
    kid = upcoming.first.inner_text() if upcoming.count() else \
        page.locator(".timeline-item .kid").first.inner_text()
    page.locator(f'a[href="/keys/{kid}/revoke"]').click()
    page.get_by_label("Type the key id").fill(kid[:-1])  # one character short
    page.get_by_role("button", name="Revoke this key").click(force=True)
    if page.get_by_role("alert").count():
        expect(page.get_by_role("alert")).to_be_visible()
    page.goto(f"{server.base_url}/keys")
    expect(page.locator(".timeline-item", has_text=kid)).not_to_have_class(
        re.compile("state-revoked"))
    page.goto(f"{server.base_url}/keys/{kid}/revoke")
    page.get_by_label("Type the key id").fill(kid)
    page.get_by_label("Reason").fill("key leaked in a test")
    page.get_by_role("button", name="Revoke this key").click()
    page.goto(f"{server.base_url}/keys")
    expect(page.locator(".timeline-item", has_text=kid)).to_have_class(
        re.compile("state-revoked"))
    audit_shows(page, server, "key.revoked", kid)
    page.goto(f"{server.base_url}/audit?action=keys.rotated")
    expect(page.locator("tbody tr").first).to_contain_text(ADMIN_EMAIL)


def test_broadcast_reaches_a_connected_socket(console: OfflinePage, server: LiveServer) -> None:
    phone = new_member(server.base_url, "listener")
    with phone.socket() as socket:
        page = console.page
        page.get_by_role("link", name="Broadcast", exact=True).click()
        page.get_by_role("textbox", name="Message").fill("Maintenance at noon, from the console")
        page.get_by_role("button", name="Send to everyone").click()
        expect(page.get_by_role("status")).to_be_visible()
        assert received_within(socket, "Maintenance at noon, from the console")
    page.goto(f"{server.base_url}/audit?action=realtime.broadcast")
    expect(page.locator("tbody")).to_contain_text("Maintenance at noon")


def test_a_form_posted_without_its_csrf_token_is_refused(
        console: OfflinePage, server: LiveServer) -> None:
    phone = new_member(server.base_url, "csrf")
    with phone.socket() as socket:
        page = console.page
        page.goto(f"{server.base_url}/broadcast")
        page.get_by_role("textbox", name="Message").fill("forged")
        page.locator('form[action="/broadcast"] input[name="csrf_token"]').evaluate(
            "input => input.remove()")
        with page.expect_response(f"{server.base_url}/broadcast") as answer:
            page.get_by_role("button", name="Send to everyone").click()
        assert answer.value.status == 403
        assert not received_within(socket, "forged", seconds=1.5)
    page.goto(f"{server.base_url}/users/{phone.user_id}")
    page.get_by_label("Reason").fill("forged")
    page.locator('form[action$="/disable"] input[name="csrf_token"]').evaluate(
        "input => input.setAttribute('value', 'not-the-token')")
    with page.expect_response(re.compile(r"/disable$")) as answer:
        page.get_by_role("button", name="Disable user").click()
    assert answer.value.status == 403
    assert phone.get("/me").status_code == 200


def test_injected_markup_in_a_name_or_prompt_is_shown_as_text(
        console: OfflinePage, server: LiveServer) -> None:
    phone = new_member(server.base_url, "mallory")
    name = '<script>alert("name")</script>'
    prompt = '<img src=x onerror="alert(1)"><script>alert("prompt")</script> a cat'
    phone.set_display_name(name)
    phone.request_image(prompt, wait_ready=False)
    page = console.page
    page.goto(f"{server.base_url}/users/{phone.user_id}")
    expect(page.locator("dl.facts")).to_contain_text(name)
    page.goto(f"{server.base_url}/users?q={phone.email}")
    expect(page.locator("tbody")).to_contain_text(name)
    page.goto(f"{server.base_url}/images?owner={phone.user_id}")
    expect(page.locator(".prompt").first).to_contain_text('<script>alert("prompt")</script>')
    assert page.locator("img[src=x]").count() == 0
    page.wait_for_timeout(300)
    assert console.dialogs == [] and console.errors == []
