"""The first minutes with `atelier`, run as a newcomer runs it: mistakes get one clear line."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ATELIER = str(Path(sys.executable).parent / "atelier")


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ATELIER, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("ATELIER_", "DATABASE_URL", "REDIS_URL", "AWS_"))}
    return {**clean, "ATELIER_DATA_DIR": str(tmp_path / "data")}


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("port", ["99999", "-5", "0", "eighty"])
def test_dev_refuses_a_port_that_is_not_one(
        port: str, env: dict[str, str], tmp_path: Path) -> None:
    result = run("dev", "--port", port, "--data-dir", str(tmp_path / "dev"), env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--port" in result.stderr.strip().splitlines()[-1]
    assert "1 to 65535" in result.stderr or "not a port number" in result.stderr
    assert not (tmp_path / "dev").exists()  # nothing started


def test_dev_on_a_port_in_use_stops_before_anything_starts(
        env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("dev", "--port", str(port), "--data-dir", str(tmp_path / "dev"), env=env,
                     timeout=30)
    line = one_clear_line(result)
    assert f"127.0.0.1:{port}" in line and "in use" in line
    assert not (tmp_path / "dev").exists()  # no migrations, no worker on that data dir
