"""`atelier demo` plays a phone against `atelier dev`, both real processes."""

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

import httpx

from tests.support.processes import ROOT, atelier

CHEAP = {"ATELIER_PASSWORD_HASH_MEMORY_KIB": "1024", "ATELIER_PASSWORD_HASH_TIME_COST": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_up(base_url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base_url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("atelier dev did not come up")


async def demo(base_url: str, data_dir: Path | None = None) -> tuple[int, str]:
    # The demo reads the codes atelier dev mails from its mailbox.
    env = {**os.environ, **({"ATELIER_DATA_DIR": str(data_dir)} if data_dir else {})}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli.main", "demo", "--base-url", base_url,
        "--timeout", "30", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env=env)
    output, _ = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_demo_passes_against_atelier_dev(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    async with atelier("dev", "--port", str(port), "--data-dir", str(tmp_path / "data"),
                       env=CHEAP, log=tmp_path / "dev.log") as dev:
        await wait_until_up(base_url)
        code, output = await demo(base_url, tmp_path / "data")
        assert code == 0, output + "\n--- dev ---\n" + dev.output()[-3000:]
        for step in ("create a guest", "receive image.ready", "download the picture",
                     "upgrade the guest", "redeem it on a new phone",
                     "set a new password with the code", "log in with the new password",
                     "delete the account", "its token is refused"):
            assert step in output
        assert "done: every step passed" in output
        # uvicorn re-raises SIGTERM once its graceful shutdown is over.
        assert await dev.terminate() in (0, -15)
        assert "worker stopped" in dev.output()
    # The picture was stored, then deleted with the account (the deletion relay ran before
    # the shutdown finished).
    assert not list((tmp_path / "data" / "objects" / "images").glob("*/*.png"))


async def test_the_demo_fails_loudly_when_nothing_answers() -> None:
    code, output = await demo(f"http://127.0.0.1:{free_port()}")
    # One line that says what to do, not a failed first step.
    assert code == 1 and "nothing answers" in output and "atelier dev" in output
