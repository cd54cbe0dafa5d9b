from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.support import LiveServer, live_dev_server

CHROMIUM = "/usr/bin/chromium"  # Debian's; ./scripts/test installs it on a fresh machine


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per module: Playwright's sync API holds this thread's event loop while
    it runs, so it must have stopped before the suite's async tests run again."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `atelier dev` per test module, with one local admin."""
    with live_dev_server(tmp_path_factory.mktemp("console")) as live:
        live.create_admin()
        yield live
