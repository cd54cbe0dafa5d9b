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

# Each wrk thread owns a share of the sessions and keeps the ones not in flight in a pool:
# a request takes one, the answer puts the rotated token back (its user id names the
# device). With more sessions per thread than connections, the pool never runs dry;
# a failed refresh loses its session and shows as a non-2xx answer, which fails the run.
REFRESH_LUA = """
local counter = 1
function setup(thread) thread:set("slot", counter); counter = counter + 1 end
function init(args)
  local threads, n = tonumber(args[1]), 0
  free, device_of = {}, {}
  for line in io.lines("%(sessions)s") do
    n = n + 1
    if (n - 1) %% threads == slot - 1 then
      local token, device, user = line:match("([^ ]+) ([^ ]+) ([^ ]+)")
      device_of[user] = device
      free[#free + 1] = {token, device}
    end
  end
end
request = function()
  local session = table.remove(free) or {"exhausted", "exhausted"}
  return wrk.format("POST", "/v1/api/sessions/refresh", {["Content-Type"] = "application/json"},
    '{"refresh_token":"' .. session[1] .. '","device_id":"' .. session[2] .. '"}')
end
response = function(status, headers, body)
  if status == 200 then
    local user = body:match('"user":{"id":"([^"]+)"')
    free[#free + 1] = {body:match('"refresh_token":"([^"]+)"'), device_of[user]}
  end
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
    command += [url, "--", str(threads)]  # the refresh script shares sessions among threads
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
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


def guests(base: str, count: int) -> list[tuple[str, str, str, str]]:
    out = []
    with httpx.Client(base_url=base) as client:
        for i in range(count):
            device = f"IDFV-BENCH-{i:06d}-{secrets.token_hex(3)}"
            session = client.post("/v1/api/guests", json={"device_id": device,
                                                          "platform": "ios"}).json()
            tokens = session["tokens"]
            out.append((tokens["access_token"], tokens["refresh_token"], device,
                        session["user"]["id"]))
    return out


def write_sessions(path: Path, sessions: list[tuple[str, str, str, str]]) -> None:
    path.write_text("".join(f"{refresh} {device} {user}\n"
                            for _, refresh, device, user in sessions))


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
    scratch = Path(__file__).resolve().parents[2] / ".atelier"  # gitignored, in the repo
    scratch.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-identity-", dir=scratch))
    results: dict[str, float] = {}
    cpu: dict[str, float] = {}
    try:
        for label, env in (("cached", {}), ("uncached", {"ATELIER_AUTH_CACHE_SECONDS": "0"})):
            server, base = start_server(url, work / label, **env)
            try:
                sessions = guests(base, 64)
                (work / "tokens.txt").write_text("\n".join(s[0] for s in sessions) + "\n")
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
                    # Refresh at the client shape of the /me runs (64 connections, one wrk
                    # thread) and at the earlier one (8 connections, 8 threads).
                    for connections, threads in ((64, 1), (8, 8)):
                        shape = f"{connections}c_{threads}t"
                        bare_, refresh = [], []
                        for _ in range(RUNS):
                            # A run rotates every token it holds: each starts new sessions,
                            # with spares (wrk builds one request per thread it never sends).
                            write_sessions(work / "sessions.txt",
                                           guests(base, connections + 4 * threads))
                            bare_.append(measured(server, f"{base}/bench/bare", connections,
                                                  threads))
                            refresh.append(measured(server, base, connections, threads,
                                                    refresh_script))
                        for name_, runs in ((f"bare_{shape}", bare_),
                                            (f"refresh_{shape}", refresh)):
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
        "refresh_vs_bare": {
            shape: round(results[f"refresh_{shape}"] / results[f"bare_{shape}"], 3)
            for shape in ("64c_1t", "8c_8t")},
        "server_cpu_us_per_request": {k: round(v) for k, v in cpu.items()},
        "refresh_vs_bare_in_server_cpu": {
            shape: round(cpu[f"bare_{shape}"] / cpu[f"refresh_{shape}"], 3)
            for shape in ("64c_1t", "8c_8t")},
        "runs": RUNS, "seconds_per_run": SECONDS,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
