"""What the console's browser tests share: a live `atelier dev` on loopback, pages that may
reach nothing but loopback, accessibility checks with axe-core and screenshots."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, Route

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "console"
SCREENSHOTS_WANTED = "ATELIER_CONSOLE_SCREENSHOTS"
"""Set to 1 and the suite writes each page's screenshots into docs/console/."""
WIDTHS = {"wide": (1280, 900), "narrow": (390, 844)}
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
ADMIN_EMAIL, ADMIN_PASSWORD = "ops@atelier.test", "console-password-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """`atelier dev` as an operator runs it, in a subprocess on a free loopback port."""

    base_url: str
    data_dir: Path
    env: dict[str, str]
    log: Path

    def atelier(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "entrypoints.cli.main", *args, "--data-dir",
             str(self.data_dir)], cwd=ROOT, env=self.env, input=stdin, capture_output=True,
            text=True, timeout=60)

    def create_admin(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
        made = self.atelier("admin", "create", email, "--password-stdin", stdin=password + "\n")
        assert made.returncode == 0, made.stdout + made.stderr


def server_environment(base_url: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ATELIER_", "DATABASE_URL", "REDIS_URL", "AWS_"))}
    env.update({"ATELIER_PASSWORD_HASH_MEMORY_KIB": "1024", "ATELIER_PASSWORD_HASH_TIME_COST": "1",
                "ATELIER_ISSUER": base_url, "ATELIER_LOG_LEVEL": "WARNING",
                "AWS_EC2_METADATA_DISABLED": "true", "PYTHONUNBUFFERED": "1"})
    env.update({f"ATELIER_{name.upper()}": value for name, value in settings.items()})
    return env


@contextmanager
def live_dev_server(workdir: Path, port: int | None = None,
                    **settings: str) -> Iterator[LiveServer]:
    """`atelier dev` with its own data directory (SQLite, files, mailbox) under `workdir`;
    `settings` become ATELIER_* variables."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = server_environment(base_url, **settings)
    data_dir, log = workdir / "data", workdir / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli.main", "dev", "--port", str(port),
             "--data-dir", str(data_dir)], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/v1/realtime/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, \
                log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        yield LiveServer(base_url, data_dir, env, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class OfflinePage:
    """A page whose every request to a host other than loopback is aborted and recorded,
    with the browser's console errors and any dialog (an `alert` from injected script)."""

    page: Page
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def offline_page(browser: Browser, width: str = "wide", **context: Any) -> OfflinePage:
    viewport_width, height = WIDTHS[width]
    ctx = browser.new_context(viewport={"width": viewport_width, "height": height}, **context)
    page = ctx.new_page()
    offline = OfflinePage(page)

    def only_loopback(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            offline.blocked.append(url)
            route.abort("internetdisconnected")

    page.route("**/*", only_loopback)
    page.on("console", lambda m: offline.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: offline.errors.append(str(e)))

    def on_dialog(dialog: Any) -> None:
        offline.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return offline


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            f"{[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    """When asked for (ATELIER_CONSOLE_SCREENSHOTS=1): the page at both widths, full length,
    into docs/console/<name>-1280.png and <name>-390.png."""
    if os.environ.get(SCREENSHOTS_WANTED) != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True,
                        animations="disabled")
    if original:
        page.set_viewport_size(original)
