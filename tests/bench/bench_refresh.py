"""Refresh on PostgreSQL, two builds side by side in one run: each server's refresh rate as
a ratio of its own bare route at 64 connections (wrk, one thread), with the server's CPU and
its PostgreSQL backends' CPU per refresh (from /proc), in interleaved rounds; medians.

    git worktree add $TMPDIR/base <commit before the change>
    BENCH_BEFORE_DIR=$TMPDIR/base uv run python -m tests.bench.bench_refresh

BENCH_AFTER_DIR (default: this checkout) is the other build; without BENCH_BEFORE_DIR only
it runs. BENCH_SECONDS (5) per measurement, BENCH_ROUNDS (5). Needs wrk.

BENCH_MODE=inprocess measures the same two builds without sockets or wrk, steadier on a
loaded box: per round and build, a fresh process runs that build's mobile API app, calls
its ASGI interface directly (64 refresh loops at once, as 64 connections would, and as
many bare-route loops) and reports its own CPU time (process_time) per refresh and per
bare request, and its PostgreSQL backends' CPU per refresh. BENCH_CALLS (2,560) refreshes
a round.
"""

import asyncio
import contextlib
import gc
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.bench.bench_identity import (
    ADMIN_DSN,
    REFRESH_LUA,
    cpu_seconds,
    free_port,
    guests,
    write_sessions,
    wrk,
)

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
INPROCESS = os.environ.get("BENCH_MODE") == "inprocess"
CALLS = int(os.environ.get("BENCH_CALLS", "2560"))
CONNECTIONS = 64
ROOT = Path(__file__).resolve().parents[2]


class Contender:
    """One build: its own database (migrated by its own code) and its own server."""

    def __init__(self, label: str, source: Path, work: Path) -> None:
        self.label, self.source, self.work = label, source, work / label
        self.database = f"atelier_bench_{label}_{secrets.token_hex(3)}"
        base = ADMIN_DSN.rsplit("/", 1)[0]
        self.url = base.replace("postgresql://", "postgresql+asyncpg://") + f"/{self.database}"
        self.dsn = f"{base}/{self.database}"
        self.server: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.rows: list[dict[str, float]] = []

    def start(self) -> None:
        asyncio.run(_admin(f'CREATE DATABASE "{self.database}"'))
        migrate = ("import asyncio, sys; from adapters.sql.migrate import upgrade_database; "
                   "asyncio.run(upgrade_database(sys.argv[1]))")
        subprocess.run([sys.executable, "-c", migrate, self.url], cwd=self.source, check=True)
        if INPROCESS:
            return
        port = free_port()
        self.server = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.identity_server", str(port)],
            cwd=self.source, env=self.environment())
        self.base_url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{self.base_url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.label}: the server did not start")

    def environment(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.url, "ATELIER_DATA_DIR": str(self.work),
                "ATELIER_KEYSTORE": "file",
                "ATELIER_RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000",
                "ATELIER_RATE_LIMIT_GUESTS_PER_MINUTE": "100000000",
                "ATELIER_LOG_LEVEL": "WARNING", "ATELIER_METRICS_PORT": "0",
                "ATELIER_REUSE_INTERVAL_SECONDS": "10", "PYTHONPATH": str(self.source)}

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(10)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))

    def round(self) -> None:
        if INPROCESS:
            # This file run from this checkout, importing the build's code (its PYTHONPATH).
            done = subprocess.run(
                [sys.executable, __file__, "--inprocess", str(CALLS), str(CONNECTIONS)],
                cwd=self.source, env=self.environment(), capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{self.label}: in-process round failed\n{done.stderr}")
            self.rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            return
        assert self.server is not None
        script = self.work / "refresh.lua"
        sessions = self.work / "sessions.txt"
        script.write_text(REFRESH_LUA % {"sessions": sessions})
        write_sessions(sessions, guests(self.base_url, CONNECTIONS + 4))
        bare, _, bare_server, _ = self._measure(f"{self.base_url}/bench/bare", None)
        rate, count, server, database = self._measure(self.base_url, script)
        self.rows.append({
            "bare_req_s": bare, "refresh_req_s": rate, "ratio": rate / bare,
            "server_us_per_refresh": server / count * 1e6,
            "postgres_us_per_refresh": database / count * 1e6,
            "bare_server_us": bare_server / (bare * SECONDS) * 1e6,
        })
        # The same ratio in server CPU per request: moves far less with the machine's load.
        self.rows[-1]["cpu_ratio"] = (
            self.rows[-1]["bare_server_us"] / self.rows[-1]["server_us_per_refresh"])

    def _measure(self, url: str, script: Path | None) -> tuple[float, float, float, float]:
        """(req/s, requests, server CPU s, PostgreSQL backends' CPU s) of one wrk run."""
        assert self.server is not None
        before = _cpu(asyncio.run(_backends(self.database)))
        server_before = cpu_seconds(self.server.pid)
        rate = wrk(url, CONNECTIONS, 1, script)
        after = _cpu(asyncio.run(_backends(self.database)))
        # A backend that started during the run counts whole; one that ended is lost (rare:
        # the pools keep theirs).
        database = sum(spent - before.get(pid, 0.0) for pid, spent in after.items())
        return rate, rate * SECONDS, cpu_seconds(self.server.pid) - server_before, database

    def summary(self) -> dict[str, Any]:
        keys = self.rows[0].keys()
        return {
            "median": {k: round(statistics.median(r[k] for r in self.rows), 3) for k in keys},
            **{f"{k}_per_round": [round(r[k], 3) for r in self.rows]
               for k in ("ratio", "cpu_ratio", "server_us_per_refresh") if k in keys},
        }


def _cpu(pids: set[int]) -> dict[int, float]:
    spent = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            spent[pid] = cpu_seconds(pid)
    return spent


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _backends(database: str) -> set[int]:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    finally:
        await connection.close()
    return {row["pid"] for row in rows}


async def _inprocess(calls: int, concurrency: int) -> dict[str, float]:
    """One in-process round (run in a child process: see BENCH_MODE)."""
    from entrypoints.mobile_api.app import create_app
    from entrypoints.mobile_api.container import MobileContainer
    from entrypoints.wiring.infrastructure import Infrastructure
    from entrypoints.wiring.settings import Settings
    from entrypoints.wiring.tracing import install_tracing
    from tests.bench.identity_server import bare

    settings = Settings()
    install_tracing(settings, "atelier-mobile-api")  # as identity_server does
    app = create_app(MobileContainer(infrastructure=Infrastructure(settings=settings)))
    app.register(bare)
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    async with _lifespan(app):
        sessions = await _guest_sessions(app, concurrency)

        async def refreshes(session: list[str], count: int) -> None:
            for _ in range(count):
                body = await _call(app, "POST", "/v1/api/sessions/refresh",
                                   {"refresh_token": session[0], "device_id": session[1]}, 200)
                session[0] = json.loads(body)["tokens"]["refresh_token"]

        async def bares(count: int) -> None:
            for _ in range(count):
                await _call(app, "GET", "/bench/bare", None, 200)

        each = calls // concurrency
        await asyncio.gather(*(refreshes(s, 2) for s in sessions))  # warm
        await asyncio.gather(*(bares(2) for _ in sessions))
        gc.collect()
        started = time.process_time()
        await asyncio.gather(*(bares(each) for _ in sessions))
        bare_us = (time.process_time() - started) / (each * concurrency) * 1e6
        backends = _cpu(await _backends(database))
        started = time.process_time()
        await asyncio.gather(*(refreshes(s, each) for s in sessions))
        refresh_us = (time.process_time() - started) / (each * concurrency) * 1e6
        after = _cpu(await _backends(database))
    postgres = sum(spent - backends.get(pid, 0.0) for pid, spent in after.items())
    return {"bare_us": bare_us, "refresh_us": refresh_us, "cpu_ratio": bare_us / refresh_us,
            "postgres_us_per_refresh": postgres / (each * concurrency) * 1e6}


async def _guest_sessions(app: Any, count: int) -> list[list[str]]:
    """`count` new guests: [refresh token, device id] each."""
    sessions: list[list[str]] = []
    for index in range(count):
        device = f"IDFV-BENCH-{index:06d}-{secrets.token_hex(3)}"
        body = await _call(app, "POST", "/v1/api/guests",
                           {"device_id": device, "platform": "ios"}, 201)
        sessions.append([json.loads(body)["tokens"]["refresh_token"], device])
    return sessions


@contextlib.asynccontextmanager
async def _lifespan(app: Any) -> Any:
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    started, stopped = asyncio.Event(), asyncio.Event()
    failure: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()
        elif message["type"] == "lifespan.startup.failed":
            failure.append(message)
            started.set()
        else:
            stopped.set()

    inbox.put_nowait({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send))
    await started.wait()
    if failure:
        raise SystemExit(f"the app did not start: {failure[0]}")
    try:
        yield
    finally:
        inbox.put_nowait({"type": "lifespan.shutdown"})
        await stopped.wait()
        await task


async def _call(app: Any, method: str, path: str, body: Any, expected: int) -> bytes:
    """One request through the app's ASGI interface, as a server would make it (`body`:
    JSON-encoded here, or the bytes to send)."""
    raw = (body if isinstance(body, bytes)
           else json.dumps(body).encode() if body is not None else b"")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(raw)).encode())],
        "state": {},
    }
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # the body is read once; a server would next report the disconnect
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    answer = b"".join(chunks)
    if status != expected:
        raise SystemExit(f"{method} {path}: {status} {answer[:300]!r}")
    return answer


def main() -> None:
    if not INPROCESS and not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    scratch = ROOT / ".atelier"
    scratch.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-refresh-", dir=scratch))
    sources = [("after", Path(os.environ.get("BENCH_AFTER_DIR", ROOT)))]
    if os.environ.get("BENCH_BEFORE_DIR"):
        sources.insert(0, ("before", Path(os.environ["BENCH_BEFORE_DIR"])))
    contenders = [Contender(label, source, work) for label, source in sources]
    try:
        for contender in contenders:
            contender.start()
        for index in range(ROUNDS):  # interleaved, so drift on a noisy machine hits both
            # and each build goes first every other round
            for contender in contenders[::-1] if index % 2 else contenders:
                contender.round()
    finally:
        for contender in contenders:
            contender.stop()
        shutil.rmtree(work, ignore_errors=True)
    report: dict[str, Any] = {c.label: c.summary() for c in contenders}
    if INPROCESS:
        report["mode"], report["refreshes_per_round"] = "inprocess", CALLS
    else:
        report["seconds_per_run"] = SECONDS
    report["rounds"] = ROUNDS
    if len(contenders) == 2:
        before, after = (c.summary()["median"] for c in contenders)
        key = "refresh_us" if INPROCESS else "server_us_per_refresh"
        report["after_vs_before_cpu_per_refresh"] = round(after[key] / before[key], 3)
        report["after_vs_before_postgres_per_refresh"] = round(
            after["postgres_us_per_refresh"] / before["postgres_us_per_refresh"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inprocess"]:
        import uvloop  # as the server runs

        os.environ.setdefault("ATELIER_LOG_LEVEL", "WARNING")
        uvloop.install()
        print(json.dumps(asyncio.run(_inprocess(int(sys.argv[2]), int(sys.argv[3])))))
    else:
        main()
