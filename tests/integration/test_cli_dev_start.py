"""What `atelier dev` and `atelier worker` print as they start: a banner saying where things
are, log lines a person reads on a terminal and JSON otherwise (or as asked), and no warning
on a clean start."""

import contextlib
import json
import os
import pty
import select
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.cli import ATELIER, clean_environment, run

STARTED = "Application startup complete"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # Metrics on a port of their own: the default one may be taken by another atelier.
    return {**clean_environment(tmp_path / "data"), "ATELIER_METRICS_PORT": str(free_port())}


def started(args: list[str], env: dict[str, str], until: str, on_a_terminal: bool,
            then: float = 1.5) -> tuple[str, str]:
    """Runs `atelier <args>` until `until` shows on stderr (plus `then` seconds of what
    follows), stderr on a pseudo-terminal or a plain file; answers (stdout, stderr)."""
    out_path = Path(env["ATELIER_DATA_DIR"]).parent / f"out-{time.monotonic_ns()}"
    leader = follower = -1
    with out_path.open("w") as out, (out_path.with_suffix(".err")).open("w") as err:
        if on_a_terminal:
            leader, follower = pty.openpty()
        process = subprocess.Popen([ATELIER, *args], env=env, stdout=out,
                                   stderr=follower if on_a_terminal else err)
        if on_a_terminal:
            os.close(follower)
        seen, deadline, seen_at = b"", time.monotonic() + 90, None
        try:
            while time.monotonic() < deadline and (
                    seen_at is None or time.monotonic() < seen_at + then):
                if on_a_terminal:
                    ready, _, _ = select.select([leader], [], [], 0.2)
                    if ready:
                        try:
                            seen += os.read(leader, 65536)
                        except OSError:
                            break
                else:
                    time.sleep(0.2)
                    seen = out_path.with_suffix(".err").read_bytes()
                if seen_at is None and until.encode() in seen:
                    seen_at = time.monotonic()
                if process.poll() is not None:
                    break
        finally:
            process.terminate()
            stopping = time.monotonic() + 30
            while process.poll() is None and time.monotonic() < stopping:
                if on_a_terminal and select.select([leader], [], [], 0.2)[0]:
                    with contextlib.suppress(OSError):  # read on: a full terminal blocks it
                        os.read(leader, 65536)
                time.sleep(0.05)
            process.wait(1)
            if on_a_terminal:
                os.close(leader)
    assert until.encode() in seen, seen.decode()[-3000:]
    return out_path.read_text(), seen.decode()


def test_a_clean_dev_start_logs_json_off_a_terminal_with_no_warning(
        env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    banner, logs = started(["dev", "--port", str(port), "--data-dir", str(tmp_path / "dev")],
                           env, STARTED, on_a_terminal=False, then=3)
    records = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert records and all("msg" in record for record in records)
    assert [r for r in records if r["level"] not in ("debug", "info")] == []  # JWKS included
    base = f"http://127.0.0.1:{port}"
    data = tmp_path / "dev"
    for where in (f"console          {base}/",
                  f"realtime socket  ws://127.0.0.1:{port}/v1/realtime",
                  f"data folder      {data}/", f"mail it sent     {data}/mailbox/",
                  f"uv run atelier demo --base-url {base}"):
        assert where in banner, banner


def test_dev_on_a_terminal_logs_lines_a_person_reads(env: dict[str, str], tmp_path: Path) -> None:
    _, logs = started(["dev", "--port", str(free_port()), "--data-dir", str(tmp_path / "dev")],
                      env, STARTED, on_a_terminal=True)
    lines = [line for line in logs.splitlines() if line.strip()]
    assert not any(line.lstrip().startswith("{") for line in lines), logs
    assert any(f"INFO    uvicorn.error: {STARTED}" in line for line in lines), logs
    assert not any(" WARNING " in line or " ERROR " in line for line in lines), logs


def test_the_schema_addresses_in_the_banner_answer(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [ATELIER, "dev", "--port", str(port), "--data-dir", str(tmp_path / "dev")], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        for path in ("/v1/api/schema", "/v1/api/admin/schema"):
            assert httpx.get(f"http://127.0.0.1:{port}{path}",
                             follow_redirects=True).status_code == 200, path
    finally:
        process.terminate()
        process.wait(30)


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the schema: the worker's relays need their tables."""
    data = tmp_path_factory.mktemp("worker") / "data"
    assert run("db", "upgrade", "--data-dir", str(data),
               env=clean_environment(data)).returncode == 0
    return data


@pytest.mark.parametrize(("how", "on_a_terminal", "want_json"), [
    (["--log-format", "json"], True, True),
    (["--log-format", "text"], False, False),
    ([], False, False),  # ATELIER_LOG_FORMAT=text, the setting
])
def test_the_log_format_can_be_asked_for(
        how: list[str], on_a_terminal: bool, want_json: bool, env: dict[str, str],
        upgraded: Path) -> None:
    if not how:
        env = {**env, "ATELIER_LOG_FORMAT": "text"}
    _, logs = started(["worker", "--data-dir", str(upgraded), *how], env,
                      "worker", on_a_terminal=on_a_terminal, then=0.5)
    first = next(line for line in logs.splitlines() if "worker" in line)
    assert first.lstrip().startswith("{") is want_json, logs
