"""`atelier dev` just started: the gateway fetched its JWKS from its own URL before the
server listened. A socket opened the moment /healthz answers is admitted (or, at worst,
told 503 with Retry-After); it is never refused as `invalid_token`, which a client reads
as "sign the user out"."""

import asyncio
import contextlib
import os
import socket as sockets
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.phone import API, bearer, new_guest
from tests.support.processes import atelier


def free_port() -> int:
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_sockets_opened_as_soon_as_atelier_dev_answers_are_not_refused_as_invalid(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"ATELIER_PASSWORD_HASH_MEMORY_KIB": "1024", "ATELIER_PASSWORD_HASH_TIME_COST": "1",
           "ATELIER_ISSUER": base, "ATELIER_LOG_LEVEL": "WARNING",
           "PATH": os.environ.get("PATH", "")}
    async with (
        atelier("dev", "--port", str(port), "--data-dir", str(tmp_path / "data"), env=env,
                log=tmp_path / "dev.log") as process,
        httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as client,
    ):
        deadline = time.monotonic() + 60
        while True:
            assert process.alive and time.monotonic() < deadline, process.output()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.02)
        answered = time.monotonic()
        guest = await new_guest(client)
        issued = await client.post(f"{API}/realtime/token", headers=bearer(guest["tokens"]))
        assert issued.status_code == 200, issued.text
        url = f"{issued.json()['url']}?token={issued.json()['token']}"

        refusals: list[tuple[int, str | None]] = []
        while True:
            try:
                async with connect(url, open_timeout=10):
                    break
            except InvalidStatus as exc:
                refusals.append((exc.response.status_code,
                                 exc.response.headers.get("Retry-After")))
                await asyncio.sleep(0.1)
            assert time.monotonic() - answered < 5, refusals
        admitted_after = time.monotonic() - answered

        assert all(status == 503 and retry for status, retry in refusals), refusals
        assert admitted_after < 1.5, (admitted_after, refusals)
        await process.terminate()
