"""`atelier dev` mounts the gateway at /v1/realtime on the one port, sharing one in-memory
bus with the mobile API: the URL POST /v1/api/realtime/token hands out opens a socket."""

import asyncio
import contextlib
import os
import signal
import socket as sockets
import subprocess
import sys
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from tests.support.phone import API, bearer, new_guest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_atelier_dev_serves_the_gateway_beside_the_mobile_api(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATELIER_PASSWORD_HASH_MEMORY_KIB": "1024",
           "ATELIER_PASSWORD_HASH_TIME_COST": "1", "ATELIER_ISSUER": base,
           "ATELIER_LOG_LEVEL": "WARNING"}
    for name in ("REDIS_URL", "ATELIER_REDIS_URL", "DATABASE_URL", "ATELIER_DATABASE_URL"):
        env.pop(name, None)
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli.main", "dev", "--port", str(port),
         "--data-dir", str(tmp_path / "data")], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/v1/realtime/readyz")).status_code == 200:
                        break
                assert time.monotonic() < deadline, (tmp_path / "dev.log").read_text()[-2000:]
                await asyncio.sleep(0.2)
            guest = await new_guest(client)
            issued = await client.post(f"{API}/realtime/token", headers=bearer(guest["tokens"]))
            assert issued.status_code == 200, issued.text
            body = issued.json()
            assert body["url"] == f"ws://127.0.0.1:{port}/v1/realtime"
            async with connect(f"{body['url']}?token={body['token']}") as ws:
                ready = (await client.get("/v1/realtime/readyz")).json()
                assert ready["connections"] == 1
                assert ws.state.name == "OPEN"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
