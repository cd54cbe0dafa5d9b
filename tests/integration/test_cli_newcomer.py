"""The first minutes with `atelier`, run as a newcomer runs it: mistakes get one clear line."""

import argparse
import base64
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from entrypoints.cli.main import build_parser, parse_args
from tests.support.cli import ATELIER, clean_environment, run


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_environment(tmp_path / "data")


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@contextmanager
def atelier_dev(env: dict[str, str], tmp_path: Path, port: int) -> Iterator[str]:
    log_path = tmp_path / "dev.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [ATELIER, "dev", "--port", str(port), "--data-dir", str(tmp_path / "dev")],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/v1/realtime/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, "atelier dev did not get ready"
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(30)


def test_dev_signs_tokens_for_the_port_it_listens_on(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    with atelier_dev(env, tmp_path, port) as base:
        guest = httpx.post(f"{base}/v1/api/guests",
                           json={"device_id": "IDFV-NEWCOMER-0001", "platform": "ios"})
        assert guest.status_code == 201, guest.text
        tokens = guest.json()["tokens"]
        assert jwt_claims(tokens["access_token"])["iss"] == base
        issued = httpx.post(f"{base}/v1/api/realtime/token",
                            headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert issued.status_code == 200, issued.text
        realtime = issued.json()
        assert jwt_claims(realtime["token"])["iss"] == base
        # The gateway fetched its JWKS from this port and admits the socket.
        with connect(f"{realtime['url']}?token={realtime['token']}", open_timeout=10):
            ready = httpx.get(f"{base}/v1/realtime/readyz").json()
            assert ready["connections"] == 1
        # The start-up banner says where to go next, and each address it gives answers.
        banner = (tmp_path / "dev.log").read_text()
        docs = [word for word in banner.split() if word.endswith("/schema/swagger")]
        assert len(docs) == 2
        assert all(httpx.get(url).status_code == 200 for url in docs)
        assert f"uv run atelier demo --base-url {base}" in banner
        assert f"{tmp_path / 'dev' / 'mailbox'}/" in banner


@pytest.mark.parametrize("command", [
    ["db", "upgrade"], ["keys", "list"], ["keys", "rotate"], ["guests", "purge"], ["dev"]])
def test_a_data_dir_that_is_a_file_gets_one_line(
        command: list[str], env: dict[str, str], tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    line = one_clear_line(run(*command, "--data-dir", str(a_file), env=env))
    assert f"{a_file} is a file" in line


def test_a_data_dir_without_permission_gets_one_line(env: dict[str, str]) -> None:
    # /sys refuses new folders even to root, as a folder without write permission does.
    line = one_clear_line(run("keys", "rotate", "--data-dir", "/sys/atelier-data", env=env))
    assert "not permitted" in line and "/sys/atelier-data" in line


def test_revoking_an_unknown_kid_says_so_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    assert run("keys", "rotate", "--data-dir", str(tmp_path / "d"), env=env).returncode == 0
    line = one_clear_line(run("keys", "revoke", "nosuchkid", "--data-dir", str(tmp_path / "d"),
                              env=env))
    assert "nosuchkid" in line


def test_the_operator_commands_take_the_data_dir(env: dict[str, str], tmp_path: Path) -> None:
    del env["ATELIER_DATA_DIR"]
    here = ["--data-dir", str(tmp_path / "elsewhere")]
    assert run("db", "upgrade", *here, env=env).returncode == 0
    assert (tmp_path / "elsewhere" / "atelier.db").exists()
    assert run("keys", "rotate", *here, env=env).returncode == 0
    listed = run("keys", "list", *here, env=env)
    assert sorted(line.split()[1] for line in listed.stdout.splitlines()) == ["active", "next"]
    kid = listed.stdout.split()[0]
    assert run("keys", "revoke", *here, kid, env=env).returncode == 0
    assert f"{kid}  revoked" in run("keys", "list", *here, env=env).stdout
    purged = run("guests", "purge", *here, env=env)
    assert purged.returncode == 0 and "purged 0" in purged.stdout, purged.stderr


def test_the_wrong_folder_is_pointed_out(env: dict[str, str], tmp_path: Path) -> None:
    empty = ["--data-dir", str(tmp_path / "empty")]
    listed = run("keys", "list", *empty, env=env)
    assert listed.returncode == 0 and "no signing keys" in listed.stderr
    line = one_clear_line(run("guests", "purge", *empty, env=env))
    assert "atelier db upgrade" in line


def every_parser(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from every_parser(child)


def test_every_command_and_flag_explains_itself() -> None:
    parsers = list(every_parser(build_parser()))
    assert len(parsers) > 10
    silent = [f"{parser.prog} {action.option_strings or action.dest}"
              for parser in parsers for action in parser._actions
              if not isinstance(action, argparse._SubParsersAction)  # its commands are below
              and not (action.help or "").strip()]
    assert silent == []
    for parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                described = {choice.dest for choice in action._choices_actions
                             if (choice.help or "").strip()}
                assert described == set(action.choices), parser.prog


def test_help_runs_for_every_command(env: dict[str, str]) -> None:
    result = run("keys", "revoke", "--help", env=env)
    assert result.returncode == 0 and "--data-dir" in result.stdout and "kid" in result.stdout
    assert "port to listen on" in run("dev", "--help", env=env).stdout


def test_demo_without_a_server_says_how_to_start_one(env: dict[str, str]) -> None:
    line = one_clear_line(run("demo", "--base-url", f"http://127.0.0.1:{free_port()}", env=env))
    assert "uv run atelier dev" in line


@pytest.mark.parametrize("argv", [
    ["keys", "revoke", "-WKCabc", "--data-dir", "/tmp/x"],
    ["keys", "revoke", "--data-dir", "/tmp/x", "-WKCabc"],
    ["keys", "revoke", "--data-dir=/tmp/x", "-WKCabc"]])
def test_a_kid_starting_with_a_dash_goes_with_the_data_dir(argv: list[str]) -> None:
    args = parse_args(argv)
    assert (args.kid, args.data_dir) == ("-WKCabc", "/tmp/x")
