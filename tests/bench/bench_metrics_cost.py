"""What metrics (and traces, exporter off) cost `/me` and refresh: three servers of the
mobile API on PostgreSQL side by side in one run, measured in turn, round after round.

    off       ATELIER_METRICS_PORT=0, ATELIER_TRACING_ENABLED=false
    metrics   metrics on their own port, tracing off
    both      metrics and tracing on (no OTLP endpoint: spans are made, nothing is sent)

Reports medians of requests/s and of the server's CPU per request, and each variant's ratio
to `off` (goal: no more than 5 % lost). Then the same three variants again, each in a process
of its own calling the ASGI app directly (tests/bench/metrics_cost_inprocess.py): that
process's CPU time per request, with no sockets and no wrk in the way. On a shared, loaded
machine the wrk figures swing with the neighbours; the in-process CPU figures much less.

    uv run python -m tests.bench.bench_metrics_cost    # needs wrk; BENCH_SECONDS, BENCH_RUNS
"""

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.bench.bench_identity import (
    ME_LUA,
    REFRESH_LUA,
    RUNS,
    SECONDS,
    drop_database,
    free_port,
    guests,
    make_database,
    measured,
    start_server,
    write_sessions,
)

CONNECTIONS, THREADS = 64, 1
PARTS = os.environ.get("BENCH_PARTS", "wrk,inprocess").split(",")
IN_PROCESS_ME = int(os.environ.get("BENCH_IN_PROCESS_ME", "2000"))
IN_PROCESS_REFRESH = int(os.environ.get("BENCH_IN_PROCESS_REFRESH", "400"))


def variants() -> dict[str, dict[str, str]]:
    return {
        "off": {"ATELIER_METRICS_PORT": "0", "ATELIER_TRACING_ENABLED": "false"},
        "metrics": {"ATELIER_METRICS_PORT": str(free_port()), "ATELIER_TRACING_ENABLED": "false"},
        "both": {"ATELIER_METRICS_PORT": str(free_port()), "ATELIER_TRACING_ENABLED": "true"},
    }


def scraped(port: str, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name))


def in_process(database_url: str, work: Path) -> dict[str, dict[str, float]]:
    """Each variant in a process of its own calling the app directly, variants in turn,
    `RUNS` rounds: medians of CPU microseconds per request (no sockets, no wrk)."""
    found: dict[str, list[dict[str, float]]] = {}
    for round_ in range(RUNS):
        for label, env in variants().items():
            environment = {
                **os.environ, "DATABASE_URL": database_url,
                "ATELIER_DATA_DIR": str(work / f"inprocess-{label}-{round_}"),
                "ATELIER_RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000",
                "ATELIER_RATE_LIMIT_GUESTS_PER_MINUTE": "100000000",
                "ATELIER_RATE_LIMIT_SESSIONS_PER_MINUTE": "100000000",
                "ATELIER_LOG_LEVEL": "WARNING", **env}
            out = subprocess.run(
                [sys.executable, "-m", "tests.bench.metrics_cost_inprocess",
                 str(IN_PROCESS_ME), str(IN_PROCESS_REFRESH)],
                env=environment, capture_output=True, text=True, check=True).stdout
            found.setdefault(label, []).append(json.loads(out.strip().splitlines()[-1]))
            print(f"in-process round {round_} {label}: {found[label][-1]}", file=sys.stderr)
    return {label: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            for label, runs in found.items()}


def middleware_cost(requests: int = 5000, rounds: int = 15) -> dict[str, float]:
    """The HTTP histogram's own cost: `RequestMetrics` around a trivial ASGI app, variants
    interleaved in this process; median microseconds per request."""
    from adapters.prometheus.metrics import PrometheusMetrics
    from entrypoints.http_edge.metrics import RequestMetrics

    async def app(scope: dict[str, object], receive: object, send: Any) -> None:
        scope["path_template"] = "/v1/api/me"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def send(message: object) -> None:
        pass

    off = RequestMetrics(app, "mobile_api")  # metrics_port 0: `metrics` stays unset
    on = RequestMetrics(app, "mobile_api")
    on.metrics = PrometheusMetrics()
    variants_: dict[str, Any] = {"no middleware": app, "metrics off": off, "metrics on": on}
    found: dict[str, list[float]] = {}

    async def rounds_() -> None:
        for _ in range(rounds):
            for label, handler in variants_.items():
                started = time.perf_counter()
                for _ in range(requests):
                    await handler({"type": "http", "method": "GET", "path": "/v1/api/me"},
                                  None, send)
                found.setdefault(label, []).append(
                    (time.perf_counter() - started) / requests * 1e6)

    asyncio.run(rounds_())
    return {label: round(statistics.median(v), 2) for label, v in found.items()}


def main() -> None:
    if PARTS == ["middleware"]:
        print(json.dumps(middleware_cost(), indent=2))
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    name, url = asyncio.run(make_database())
    scratch = Path(__file__).resolve().parents[2] / ".atelier"  # gitignored, in the repo
    scratch.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-metrics-", dir=scratch))
    envs = variants()
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    runs: dict[str, list[tuple[float, float]]] = {}
    counted: dict[str, float] = {}
    direct: dict[str, dict[str, float]] = {}
    try:
        if "wrk" not in PARTS:
            direct = in_process(url, work)
            envs = {}
        for label, env in envs.items():
            servers[label] = start_server(url, work / label, **env)
        me_scripts = {}
        for label, (_, base) in servers.items():
            tokens = work / f"{label}-tokens.txt"
            tokens.write_text("\n".join(s[0] for s in guests(base, 64)) + "\n")
            me_scripts[label] = work / f"{label}-me.lua"
            me_scripts[label].write_text(ME_LUA % {"tokens": tokens})
        labels = list(servers)
        for round_ in range(RUNS):
            # Interleaved, each round starting with another variant: drift on a noisy
            # machine hits every variant alike.
            order = labels[round_ % len(labels):] + labels[:round_ % len(labels)]
            for label in order:
                server, base = servers[label]
                runs.setdefault(f"me/{label}", []).append(
                    measured(server, base, CONNECTIONS, THREADS, me_scripts[label]))
            for label in order:
                server, base = servers[label]
                # A run rotates every token it holds: each starts with new sessions.
                sessions = work / f"{label}-sessions.txt"
                write_sessions(sessions, guests(base, CONNECTIONS + 4 * THREADS))
                script = work / f"{label}-refresh.lua"
                script.write_text(REFRESH_LUA % {"sessions": sessions})
                runs.setdefault(f"refresh/{label}", []).append(
                    measured(server, base, CONNECTIONS, THREADS, script))
        counted = {label: scraped(env["ATELIER_METRICS_PORT"], "atelier_refresh_total")
                   for label, env in envs.items() if label != "off"}
        for server, _ in servers.values():
            server.terminate()
            server.wait(10)
        servers.clear()
        if "inprocess" in PARTS:
            direct = in_process(url, work)
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(10)
        asyncio.run(drop_database(name))
        shutil.rmtree(work, ignore_errors=True)
    rate = {k: statistics.median(r for r, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(us for _, us in v) for k, v in runs.items()}
    report: dict[str, object] = {"runs": RUNS}
    if runs:
        report.update({
            "median_req_per_s": {k: round(v) for k, v in rate.items()},
            "server_cpu_us_per_request": {k: round(v) for k, v in cpu.items()},
            "req_per_s_vs_off": {
                f"{op}/{label}": round(rate[f"{op}/{label}"] / rate[f"{op}/off"], 3)
                for op in ("me", "refresh") for label in ("metrics", "both")},
            "cpu_per_request_vs_off": {
                f"{op}/{label}": round(cpu[f"{op}/{label}"] / cpu[f"{op}/off"], 3)
                for op in ("me", "refresh") for label in ("metrics", "both")},
            "refreshes_counted": counted,
            "every_run_req_per_s": {k: [round(r) for r, _ in v] for k, v in runs.items()},
            "seconds_per_run": SECONDS, "connections": CONNECTIONS,
        })
    if direct:
        report.update({
            "in_process_cpu_us_per_request": {
                label: {k: round(v) for k, v in figures.items()}
                for label, figures in direct.items()},
            "in_process_cpu_vs_off": {
                f"{op}/{label}": round(direct[label][f"{op}_us"] / direct["off"][f"{op}_us"], 3)
                for op in ("me", "refresh") for label in ("metrics", "both")},
            "in_process_calls": {"me": IN_PROCESS_ME, "refresh": IN_PROCESS_REFRESH},
        })
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
