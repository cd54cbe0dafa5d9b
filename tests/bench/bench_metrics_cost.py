"""What metrics (and traces, exporter off) cost `/me` and refresh: three servers of the
mobile API on PostgreSQL side by side in one run, measured in turn, round after round.

    off       ATELIER_METRICS_PORT=0, ATELIER_TRACING_ENABLED=false
    metrics   metrics on their own port, tracing off
    both      metrics and tracing on (no OTLP endpoint: spans are made, nothing is sent)

Reports medians of requests/s and of the server's CPU per request, and each variant's ratio
to `off` (goal: no more than 5 % lost). The machine is shared: the CPU figure moves far less
with the neighbours than requests/s does.

    uv run python -m tests.bench.bench_metrics_cost    # needs wrk; BENCH_SECONDS, BENCH_RUNS
"""

import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

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


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    name, url = asyncio.run(make_database())
    scratch = Path(__file__).resolve().parents[2] / ".atelier"  # gitignored, in the repo
    scratch.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-metrics-", dir=scratch))
    envs = variants()
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    runs: dict[str, list[tuple[float, float]]] = {}
    try:
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
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(10)
        asyncio.run(drop_database(name))
        shutil.rmtree(work, ignore_errors=True)
    rate = {k: statistics.median(r for r, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(us for _, us in v) for k, v in runs.items()}
    report = {
        "median_req_per_s": {k: round(v) for k, v in rate.items()},
        "server_cpu_us_per_request": {k: round(v) for k, v in cpu.items()},
        "req_per_s_vs_off": {f"{op}/{label}": round(rate[f"{op}/{label}"] / rate[f"{op}/off"], 3)
                             for op in ("me", "refresh") for label in ("metrics", "both")},
        "cpu_per_request_vs_off": {
            f"{op}/{label}": round(cpu[f"{op}/{label}"] / cpu[f"{op}/off"], 3)
            for op in ("me", "refresh") for label in ("metrics", "both")},
        "refreshes_counted": counted,
        "every_run_req_per_s": {k: [round(r) for r, _ in v] for k, v in runs.items()},
        "runs": RUNS, "seconds_per_run": SECONDS, "connections": CONNECTIONS,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
