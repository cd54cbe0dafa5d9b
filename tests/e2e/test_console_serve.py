"""`atelier serve console`: the console as its own process, as its container runs it."""

import asyncio
import contextlib
import socket
import time
from pathlib import Path

import httpx

from adapters.sql.migrate import upgrade_database
from tests.support.processes import atelier


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_atelier_serve_console_answers_health_and_its_sign_in_page(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    port = free_port()
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": url,
           "ATELIER_METRICS_PORT": "0"}
    async with (
        atelier("serve", "console", "--host", "127.0.0.1", "--port", str(port), env=env,
                log=tmp_path / "console.log") as process,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.alive, process.output()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.1)
        assert (await client.get("/readyz")).status_code == 200
        home = await client.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/sign-in"
        form = await client.get("/sign-in")
        assert form.status_code == 200 and 'name="password"' in form.text
        # Its own process is not `atelier dev`: the cookie is Secure even on loopback http.
        assert "secure" in form.headers["set-cookie"].lower()
        assert (await client.get("/static/console.css")).status_code == 200
