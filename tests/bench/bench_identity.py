"""Authenticated reads and refreshes on PostgreSQL, each as a ratio to a bare litestar route
served by the same process in the same run (wrk as the client; medians of 3 runs).

    uv run python -m tests.bench.bench_identity      # needs wrk (apt-get install wrk)
"""

import asyncio
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from adapters.sql.migrate import upgrade_database

ADMIN_DSN = os.environ.get(
    "ATELIER_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
SECONDS, RUNS = int(os.environ.get("BENCH_SECONDS", "5")), int(os.environ.get("BENCH_RUNS", "3"))

ME_LUA = """
local tokens, i = {}, 0
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
request = function()
  i = i %% #tokens + 1
  return wrk.format("GET", "/v1/api/me", {["Authorization"] = "Bearer " .. tokens[i]})
end
"""

REFRESH_LUA = """
local counter = 1
function setup(thread) thread:set("slot", counter); counter = counter + 1 end
function init(args)
  local n = 0
  for line in io.lines("%(sessions)s") do
    n = n + 1
    if n == slot then token, device = line:match("([^ ]+) ([^ ]+)") end
  end
end
request = function()
  return wrk.format("POST", "/v1/api/sessions/refresh", {["Content-Type"] = "application/json"},
    '{"refresh_token":"' .. token .. '","device_id":"' .. device .. '"}')
end
response = function(status, headers, body)
  if status == 200 then token = body:match('"refresh_token":"([^"]+)"') end
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(url: str, connections: int, threads: int, script: Path | None = None) -> float:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{SECONDS}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} failed requests\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


async def make_database() -> tuple[str, str]:
    name = f"atelier_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    await upgrade_database(url)
    return name, url


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def start_server(
    database_url: str, data_dir: Path, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environment = {
        **os.environ, "DATABASE_URL": database_url, "ATELIER_DATA_DIR": str(data_dir),
        "ATELIER_KEYSTORE": "file", "ATELIER_RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000",
        "ATELIER_RATE_LIMIT_GUESTS_PER_MINUTE": "100000000", "ATELIER_LOG_LEVEL": "WARNING",
        "ATELIER_REUSE_INTERVAL_SECONDS": "10", **env,
    }
    process = subprocess.Popen([sys.executable, "-m", "tests.bench.identity_server", str(port)],
                               env=environment)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


def guests(base: str, count: int) -> list[tuple[str, str, str]]:
    out = []
    with httpx.Client(base_url=base) as client:
        for i in range(count):
            device = f"IDFV-BENCH-{i:06d}-{secrets.token_hex(3)}"
            tokens = client.post("/v1/api/guests", json={"device_id": device,
                                                         "platform": "ios"}).json()["tokens"]
            out.append((tokens["access_token"], tokens["refresh_token"], device))
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(
    server: subprocess.Popen[bytes], url: str, connections: int, threads: int,
    script: Path | None = None,
) -> tuple[float, float]:
    """wrk's (requests/s, server CPU microseconds per request): the second figure moves far
    less with what else the machine is doing."""
    before = cpu_seconds(server.pid)
    rate = wrk(url, connections, threads, script)
    return rate, (cpu_seconds(server.pid) - before) / (rate * SECONDS) * 1e6


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    name, url = asyncio.run(make_database())
    work = Path(tempfile.mkdtemp(prefix="atelier-bench-"))
    results: dict[str, float] = {}
    cpu: dict[str, float] = {}
    try:
        for label, env in (("cached", {}), ("uncached", {"ATELIER_AUTH_CACHE_SECONDS": "0"})):
            server, base = start_server(url, work / label, **env)
            try:
                sessions = guests(base, 64)
                (work / "tokens.txt").write_text("\n".join(s[0] for s in sessions) + "\n")
                (work / "sessions.txt").write_text(
                    "\n".join(f"{s[1]} {s[2]}" for s in sessions) + "\n")
                me_script = work / "me.lua"
                me_script.write_text(ME_LUA % {"tokens": work / "tokens.txt"})
                refresh_script = work / "refresh.lua"
                refresh_script.write_text(REFRESH_LUA % {"sessions": work / "sessions.txt"})
                bare, me = [], []
                for _ in range(RUNS):  # interleaved, so drift on a noisy machine hits both
                    bare.append(measured(server, f"{base}/bench/bare", 64, 1))
                    me.append(measured(server, base, 64, 1, me_script))
                for name_, runs in ((f"bare_64c_{label}", bare), (f"me_64c_{label}", me)):
                    results[name_] = statistics.median(rate for rate, _ in runs)
                    cpu[name_] = statistics.median(us for _, us in runs)
                if label == "cached":
                    bare8, refresh = [], []
                    for _ in range(RUNS):
                        # A run rotates every token it holds: each run starts new sessions.
                        fresh = guests(base, 8)
                        (work / "sessions.txt").write_text(
                            "\n".join(f"{s[1]} {s[2]}" for s in fresh) + "\n")
                        bare8.append(measured(server, f"{base}/bench/bare", 8, 8))
                        refresh.append(measured(server, base, 8, 8, refresh_script))
                    for name_, runs in (("bare_8c", bare8), ("refresh_8c", refresh)):
                        results[name_] = statistics.median(rate for rate, _ in runs)
                        cpu[name_] = statistics.median(us for _, us in runs)
            finally:
                server.terminate()
                server.wait(10)
    finally:
        asyncio.run(drop_database(name))
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "median_req_per_s": {k: round(v) for k, v in results.items()},
        "me_vs_bare": round(results["me_64c_cached"] / results["bare_64c_cached"], 3),
        "me_vs_bare_without_session_cache": round(
            results["me_64c_uncached"] / results["bare_64c_uncached"], 3),
        "refresh_vs_bare": round(results["refresh_8c"] / results["bare_8c"], 3),
        "server_cpu_us_per_request": {k: round(v) for k, v in cpu.items()},
        "refresh_vs_bare_in_server_cpu": round(cpu["bare_8c"] / cpu["refresh_8c"], 3),
        "runs": RUNS, "seconds_per_run": SECONDS,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
