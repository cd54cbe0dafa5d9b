"""`atelier dev` as an attacker on the same machine, or on its socket, meets it: a data
folder that existed with loose modes is made private on start, and an oversized WebSocket
frame is refused as it arrives instead of being buffered whole before the size check."""

import asyncio
import socket
import stat
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.phone import API, bearer, new_guest
from tests.support.processes import AtelierProcess, atelier

CHEAP = {"ATELIER_PASSWORD_HASH_MEMORY_KIB": "1024", "ATELIER_PASSWORD_HASH_TIME_COST": "1"}
FRAME = 15 * 2**20

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Dev:
    base_url: str
    data_dir: Path
    process: AtelierProcess


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def loose_data_dir(root: Path) -> None:
    """A data folder as an older version, or a careless umask, left it."""
    (root / "mailbox").mkdir(parents=True)
    (root / "atelier.db").touch()  # SQLite takes an empty file as a new database
    (root / "mailbox" / "20260101T000000000000Z-0000.eml").write_text("To: a@example.com\n")
    for path in (root, root / "mailbox"):
        path.chmod(0o755)
    for path in (root / "atelier.db", root / "mailbox" / "20260101T000000000000Z-0000.eml"):
        path.chmod(0o644)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dev(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Dev]:
    folder = tmp_path_factory.mktemp("dev")
    data_dir = folder / "data"
    loose_data_dir(data_dir)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    async with atelier("dev", "--port", str(port), "--data-dir", str(data_dir),
                       env=CHEAP, log=folder / "dev.log") as process:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(f"{base_url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, process.output()[-3000:]
                await asyncio.sleep(0.2)
        yield Dev(base_url, data_dir, process)


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


async def test_the_data_folder_is_private_after_start(dev: Dev) -> None:
    async with httpx.AsyncClient(base_url=dev.base_url) as client:
        await new_guest(client)  # the database, queue and keys are written by now
    found = modes(dev.data_dir)
    assert {"atelier.db", "mailbox", "mailbox/20260101T000000000000Z-0000.eml"} <= set(found)
    loose = {name: f"{mode:04o}" for name, mode in found.items() if mode & 0o077}
    assert loose == {}


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def test_an_oversized_frame_is_refused_before_it_is_buffered(dev: Dev) -> None:
    async with httpx.AsyncClient(base_url=dev.base_url) as client:
        guest = await new_guest(client)
        issued = await client.post(f"{API}/realtime/token", headers=bearer(guest["tokens"]))
        assert issued.status_code == 200, issued.text
    url = issued.json()["url"] + "?token=" + issued.json()["token"]
    before = peak_rss_kib(dev.process.pid)
    async with connect(url, open_timeout=10) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.send(b"x" * FRAME)
            await asyncio.wait_for(ws.recv(), 20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    grown_mib = (peak_rss_kib(dev.process.pid) - before) / 1024
    # Buffering the frame would grow the peak by the whole frame at least.
    assert grown_mib < FRAME / 2**20 / 2, f"peak memory grew {grown_mib:.1f} MiB for one frame"
