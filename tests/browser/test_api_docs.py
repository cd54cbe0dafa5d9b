"""Both API docs pages render their operations in Chromium with every request to a host
other than loopback blocked: Swagger UI is served by the product."""

import pytest
from playwright.sync_api import Browser

from tests.browser.support import LiveServer, offline_page

# A live server and Chromium on a shared machine: starting them takes a while.
pytestmark = pytest.mark.timeout(600)


@pytest.mark.parametrize(("path", "operation"), [
    ("/v1/api/schema/swagger", "/v1/api/guests"),
    ("/v1/api/admin/schema/swagger", "/v1/api/admin/users"),
])
def test_the_docs_page_renders_offline(
        browser: Browser, server: LiveServer, path: str, operation: str) -> None:
    offline = offline_page(browser)
    page = offline.page
    try:
        response = page.goto(server.base_url + path)
        assert response is not None and response.status == 200
        page.locator(".opblock").first.wait_for(timeout=15000)
        assert page.locator(".opblock").count() > 5
        assert page.locator(f'.opblock-summary-path[data-path="{operation}"]').count() >= 1
        assert offline.blocked == []
        assert offline.errors == []  # nothing refused by the page's CSP either
    finally:
        page.context.close()
