"""Refresh on PostgreSQL, two builds side by side in one run: each server's refresh rate as
a ratio of its own bare route at 64 connections (wrk, one thread), with the server's CPU and
its PostgreSQL backends' CPU per refresh (from /proc), in interleaved rounds; medians.

    git worktree add $TMPDIR/base <commit before the change>
    BENCH_BEFORE_DIR=$TMPDIR/base uv run python -m tests.bench.bench_refresh

BENCH_AFTER_DIR (default: this checkout) is the other build; without BENCH_BEFORE_DIR only
it runs. BENCH_SECONDS (5) per measurement, BENCH_ROUNDS (5). Needs wrk.
"""

import asyncio
import contextlib
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
        port = free_port()
        env = {**os.environ, "DATABASE_URL": self.url, "ATELIER_DATA_DIR": str(self.work),
               "ATELIER_KEYSTORE": "file", "ATELIER_RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000",
               "ATELIER_RATE_LIMIT_GUESTS_PER_MINUTE": "100000000",
               "ATELIER_LOG_LEVEL": "WARNING", "ATELIER_METRICS_PORT": "0",
               "ATELIER_REUSE_INTERVAL_SECONDS": "10", "PYTHONPATH": str(self.source)}
        self.server = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.identity_server", str(port)],
            cwd=self.source, env=env)
        self.base_url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{self.base_url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.label}: the server did not start")

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(10)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))

    def round(self) -> None:
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
            "ratio_per_round": [round(r["ratio"], 3) for r in self.rows],
            "cpu_ratio_per_round": [round(r["cpu_ratio"], 3) for r in self.rows],
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


def main() -> None:
    if not shutil.which("wrk"):
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
        for _ in range(ROUNDS):  # interleaved, so drift on a noisy machine hits both
            for contender in contenders:
                contender.round()
    finally:
        for contender in contenders:
            contender.stop()
        shutil.rmtree(work, ignore_errors=True)
    report = {c.label: c.summary() for c in contenders}
    report["rounds"], report["seconds_per_run"] = ROUNDS, SECONDS
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
