"""The operator commands, run as an operator runs them: `atelier ...` subprocesses."""

import json
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.cli import ATELIER, clean_environment, run


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**clean_environment(tmp_path / "data"),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'atelier.db'}"}


def test_keys_rotate_list_revoke_with_the_0600_file(env: dict[str, str], tmp_path: Path) -> None:
    first = run("keys", "rotate", env=env)
    assert first.returncode == 0, first.stderr
    assert "activated" in first.stdout and "staged" in first.stdout
    key_file = tmp_path / "data" / "signing-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    again = run("keys", "rotate", env=env)
    assert again.returncode == 0 and "nothing to do" in again.stdout

    listed = run("keys", "list", env=env).stdout.splitlines()
    states = sorted(line.split()[1] for line in listed)
    assert states == ["active", "next"]
    active_kid = next(line.split()[0] for line in listed if line.split()[1] == "active")
    assert run("keys", "revoke", active_kid, env=env).returncode == 0
    after = run("keys", "list", env=env).stdout
    assert f"{active_kid}  revoked" in after
    # Signing goes on: the staged key took over at once, as the admin API's revoke does.
    assert sorted(line.split()[1] for line in after.splitlines()).count("active") == 1
    unknown = run("keys", "revoke", "no-such-kid", env=env)
    assert unknown.returncode != 0


def test_db_upgrade_and_guest_purge(env: dict[str, str]) -> None:
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert run("db", "upgrade", env=env).returncode == 0
    purged = run("guests", "purge", env=env)
    assert purged.returncode == 0, purged.stderr
    assert "purged 0" in purged.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_atelier_dev_serves_the_embedded_default(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    del env["DATABASE_URL"]  # the embedded default picks its own SQLite file
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [ATELIER, "dev", "--port", str(port), "--data-dir", str(tmp_path / "dev")],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "atelier dev did not answer /healthz"
            time.sleep(0.1)
        guest = httpx.post(f"{base}/v1/api/guests",
                           json={"device_id": "IDFV-DEV-000000001", "platform": "ios"})
        assert guest.status_code == 201
        assert httpx.get(f"{base}/readyz").status_code == 200
        assert (tmp_path / "dev" / "atelier.db").exists()
        keys = json.loads((tmp_path / "dev" / "signing-keys.json").read_text())
        assert keys
    finally:
        process.terminate()
        process.wait(30)
        log.close()
    # uvicorn re-raises SIGTERM after a clean shutdown, so the exit status is the signal's.
    log_text = (tmp_path / "dev.log").read_text()
    assert process.returncode in (0, -15) and "Application shutdown complete" in log_text
