"""Every console page passes axe-core with no serious or critical finding, at 1280 and
390 px wide, and (asked for with ATELIER_CONSOLE_SCREENSHOTS=1) is photographed at both
widths into docs/console/ for docs/console.md."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.phones import Phone, new_member
from tests.browser.support import (
    WIDTHS,
    LiveServer,
    OfflinePage,
    offline_page,
    screenshot,
    serious_violations,
)
from tests.browser.test_console import sign_in

# A live server and Chromium on a shared machine: starting them takes a while.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def phones(server: LiveServer) -> list[Phone]:
    """A few members with pictures, so that lists and the grid have something to show."""
    made = []
    for name, display, prompts in [
        ("ada", "Ada Lovelace", ["a lighthouse at dusk", "a red fox in the snow"]),
        ("grace", "Grace Hopper", ["a paper boat on a pond"]),
        ("alan", None, []),
    ]:
        phone = new_member(server.base_url, name)
        if display:
            phone.set_display_name(display)
        for prompt in prompts:
            phone.request_image(prompt)
        made.append(phone)
    new_member(server.base_url, "leaving").delete_account()  # for the deletions page
    return made


@pytest.fixture(scope="module")
def tab(browser: Browser, server: LiveServer, phones: list[Phone]) -> Iterator[OfflinePage]:
    offline = offline_page(browser)
    yield offline
    offline.page.context.close()


def check(page: Page, name: str) -> list[str]:
    """axe at both widths; the screenshots when asked for."""
    found = []
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        found += [f"{name} at {width}px: {v}" for v in serious_violations(page)]
    page.set_viewport_size({"width": WIDTHS["wide"][0], "height": WIDTHS["wide"][1]})
    screenshot(page, name)
    return found


def test_every_page_is_accessible(tab: OfflinePage, server: LiveServer,
                                  phones: list[Phone]) -> None:
    page, base = tab.page, server.base_url
    ada = phones[0]
    violations: list[str] = []
    page.goto(f"{base}/sign-in")
    violations += check(page, "sign-in")
    sign_in(page, server, password="a wrong password")
    violations += check(page, "sign-in-error")
    sign_in(page, server)
    page.wait_for_url(f"{base}/")
    signed_in_pages = [
        ("overview", "/"),
        ("users", "/users"),
        ("user", f"/users/{ada.user_id}"),
        ("revoke-device", f"/users/{ada.user_id}/devices/{ada.device_id}/revoke"),
        ("images", "/images"),
        ("keys", "/keys"),
        ("broadcast", "/broadcast"),
        ("audit", "/audit"),
        ("deletions", "/deletions"),
        ("not-found", "/users/no-such-user"),
    ]
    for name, path in signed_in_pages:
        response = page.goto(base + path)
        assert response is not None, path
        assert response.status == (404 if name == "not-found" else 200), (path, response.status)
        violations += check(page, name)
    image_id = page.evaluate("""() => fetch('/images').then(r => r.text()).then(html =>
        (html.match(/\\/images\\/([^\\/"?]+)\\/delete/) || [])[1])""")
    assert image_id, "no image on the images page"
    page.goto(f"{base}/images/{image_id}/delete?back=/images")
    violations += check(page, "delete-image")
    kid = page.evaluate("""() => fetch('/keys').then(r => r.text()).then(html =>
        (html.match(/\\/keys\\/([^\\/"]+)\\/revoke/) || [])[1])""")
    page.goto(f"{base}/keys/{kid}/revoke")
    violations += check(page, "revoke-key")
    assert violations == [], "\n".join(violations)
    # The wrong password (401) and the unknown user (404) are answers this test asked for;
    # Chromium logs each as a failed load. Anything else is a broken page.
    asked_for = ("status of 401 (Unauthorized)", "status of 404 (Not Found)")
    unexpected = [e for e in tab.errors if not any(status in e for status in asked_for)]
    assert tab.blocked == [] and tab.dialogs == [] and unexpected == [], unexpected


def test_the_keyboard_reaches_every_main_link_with_a_visible_focus(
        tab: OfflinePage, server: LiveServer) -> None:
    page = tab.page
    page.goto(f"{server.base_url}/")
    if "/sign-in" in page.url:
        sign_in(page, server)
        page.wait_for_url(f"{server.base_url}/")
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return [e.textContent.trim(), s.outlineStyle !== 'none' || s.boxShadow !== 'none'];
        }""")
        reached.append(focused)
    names = [name for name, _ in reached]
    for link in ("Overview", "Users", "Images", "Keys", "Broadcast", "Audit log"):
        assert link in names, names
    assert all(visible for _, visible in reached), reached
