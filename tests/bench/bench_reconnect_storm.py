"""Reconnect storm (issue #16): gateway A holds N sockets and is drained (SIGTERM: every
socket closed with 1012, evenly over `--drain` seconds, 30 as in production); the phones
come back to gateway B with the backoff of docs/realtime.md ("Backoff": Retry-After plus
full jitter).

    uv run python -m tests.bench.bench_reconnect_storm                  # 15,000 sockets
    uv run python -m tests.bench.bench_reconnect_storm --sockets 2000   # smoke run
    uv run python -m tests.bench.bench_reconnect_storm --drain 0 --max-retry-after  # as before

Both gateways run as `atelier serve gateway` does (uvicorn, wsproto, uvloop), each in its
own process, each with its own counting JWKS origin. B runs the production defaults
(`ATELIER_GATEWAY_HANDSHAKES_PER_SECOND=500`, `..._HANDSHAKE_BURST=1000`,
`..._MAX_CONNECTIONS=20000`, `..._MAX_SOCKETS_PER_IP=200`, pings every 20 s); A, only
filled before the measurement, admits handshakes without a rate limit. The phones are
`tests/bench/storm_clients.py` processes (N / 3,750 of them), bound to 100 loopback source
addresses (127.0.0.2-101: at most 150 phones per address, under the per-address cap).

Measured: the time from SIGTERM until 50/90/99/100 % of the phones are back on B, every
refused or failed attempt by status and reason, JWKS fetches per node, A's drain time
(SIGTERM to process exit), B's handshakes per second and peak RSS, the load average.

Needs Redis at ATELIER_TEST_REDIS (default redis://127.0.0.1:6379/14); raises its own fd
limit (and each client process its own).
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as redis

from tests.bench.bench_gateway_sockets import free_port, rss_kib, wait_port
from tests.support.gateway import ISSUER, CountingOrigin, new_key
from tests.support.server import serving

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("ATELIER_TEST_REDIS", "redis://127.0.0.1:6379/14")
TMP = ROOT / ".atelier" / "tmp"
PER_PROCESS = 3750
SOURCES = [f"127.0.0.{n}" for n in range(2, 102)]
PRODUCTION = {  # the defaults of entrypoints/wiring/settings.py, spelled out
    "ATELIER_GATEWAY_HANDSHAKES_PER_SECOND": "500",
    "ATELIER_GATEWAY_HANDSHAKE_BURST": "1000",
    "ATELIER_GATEWAY_MAX_CONNECTIONS": "20000",
    "ATELIER_GATEWAY_MAX_SOCKETS_PER_IP": "200",
    "ATELIER_GATEWAY_MAX_SOCKETS_PER_TOKEN": "5",
    "ATELIER_GATEWAY_PING_INTERVAL_SECONDS": "20",
    "ATELIER_GATEWAY_PING_TIMEOUT_SECONDS": "20",
    "ATELIER_JWKS_MAX_AGE_SECONDS": "300",
    "ATELIER_JWKS_REFETCH_COOLDOWN_SECONDS": "30",
}


def gateway_env(jwks_url: str, prefix: str, metrics_port: int) -> dict[str, str]:
    return {
        **PRODUCTION,
        "ATELIER_REDIS_URL": REDIS_URL, "ATELIER_ISSUER": ISSUER, "ATELIER_JWKS_URL": jwks_url,
        "ATELIER_REALTIME_BUS_PREFIX": prefix, "ATELIER_LOG_LEVEL": "WARNING",
        "ATELIER_METRICS_PORT": str(metrics_port),
        "ATELIER_DATA_DIR": str(ROOT / ".atelier" / "bench-gateway"),
    }


def start(args: list[str], env: dict[str, str], **options: object) -> subprocess.Popen[bytes]:
    child: subprocess.Popen[bytes] = subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, *args], cwd=ROOT, env={**os.environ, **env}, **options)
    return child


def stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_lines(path: Path) -> Counter[str]:
    """The gateway's warnings and errors (JSON log lines), by level and message."""
    found: Counter[str] = Counter()
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            entry = json.loads(line)
            found[f"{entry['level']}: {entry['msg']} {entry.get('error', '')}".strip()] += 1
        except (ValueError, KeyError, TypeError):
            found[line[:120]] += 1
    return found


def open_fds(pid: int) -> int:
    with contextlib.suppress(OSError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return -1


def accept_queue(port: int) -> int:
    """Connections waiting in the listening socket's accept queue (Recv-Q of `ss -lt`)."""
    listing = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                             text=True, check=False).stdout.split()
    return int(listing[1]) if len(listing) > 1 else -1


def listen_overflows() -> int:
    """The kernel's count of connections dropped because an accept queue was full."""
    for line in subprocess.run(["nstat", "-az", "TcpExtListenOverflows"], capture_output=True,
                               text=True, check=False).stdout.splitlines():
        if line.startswith("TcpExtListenOverflows"):
            return int(line.split()[1])
    return -1


def hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


@contextlib.asynccontextmanager
async def origins(key: object) -> AsyncIterator[tuple[CountingOrigin, str, CountingOrigin, str]]:
    """One JWKS origin per node, so that each node's fetches are counted apart."""
    a, b = CountingOrigin(keys=[key]), CountingOrigin(keys=[key])  # type: ignore[list-item]
    async with serving(a) as url_a, serving(b) as url_b:
        yield a, f"{url_a}/.well-known/jwks.json", b, f"{url_b}/.well-known/jwks.json"


async def read_line(child: subprocess.Popen[bytes], expected: str, timeout: float) -> None:
    assert child.stdout is not None
    loop = asyncio.get_running_loop()
    line = await asyncio.wait_for(loop.run_in_executor(None, child.stdout.readline), timeout)
    if line.decode().strip() != expected:
        raise RuntimeError(f"client process said {line!r}, expected {expected!r}")


async def connections(client: httpx.AsyncClient, port: int) -> int | None:
    with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
        answer = await client.get(f"http://127.0.0.1:{port}/readyz", timeout=2.0)
        return int(answer.json()["connections"])
    return None


def handshake_counts(metrics_text: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for line in metrics_text.splitlines():
        if line.startswith("atelier_gateway_handshakes_total{"):
            labels, _, value = line.rpartition(" ")
            counts[labels.split("{", 1)[1].rstrip("}")] = float(value)
    return counts


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def storm(args: argparse.Namespace) -> None:
    prefix = f"atelier:bench:storm:{secrets.token_hex(4)}:"
    key = new_key()
    key_arg = f"{key.public_key.hex()}:{key.private_key.hex()}"
    TMP.mkdir(parents=True, exist_ok=True)
    count = args.sockets
    processes = max(1, math.ceil(count / PER_PROCESS))
    children: list[subprocess.Popen[bytes]] = []
    async with origins(key) as (origin_a, jwks_a, origin_b, jwks_b), httpx.AsyncClient(
            trust_env=False) as http:
        port_a, port_b, metrics_a, metrics_b = (free_port() for _ in range(4))
        env_a = {**gateway_env(jwks_a, prefix, metrics_a),
                 "ATELIER_GATEWAY_DRAIN_SECONDS": str(args.drain),
                 "ATELIER_GATEWAY_HANDSHAKES_PER_SECOND": "1000000",  # the set-up only
                 "ATELIER_GATEWAY_HANDSHAKE_BURST": "1000000"}
        serve = ["-m", "tests.bench.bench_reconnect_storm", "--serve-gateway"]
        run = secrets.token_hex(4)
        logs = {node: TMP / f"storm-{run}-{node}.log" for node in ("A", "B")}
        gateway_a = start([*serve, str(port_a)], env_a, stdout=subprocess.DEVNULL,
                          stderr=logs["A"].open("w"))
        gateway_b = start([*serve, str(port_b)], gateway_env(jwks_b, prefix, metrics_b),
                          stdout=subprocess.DEVNULL, stderr=logs["B"].open("w"))
        children += [gateway_a, gateway_b]
        results = [TMP / f"storm-{run}-{n}.json" for n in range(processes)]
        try:
            await wait_port(port_a, "/readyz")
            await wait_port(port_b, "/readyz")
            b_idle_kib = rss_kib(gateway_b.pid)
            share = math.ceil(count / processes)
            clients = []
            for n in range(processes):
                first, size = n * share, min(share, count - n * share)
                clients.append(start(
                    ["-m", "tests.bench.storm_clients", "--a-port", str(port_a), "--b-port",
                     str(port_b), "--first", str(first), "--count", str(size), "--sources",
                     ",".join(SOURCES), "--key", key_arg, "--result", str(results[n]),
                     "--deadline", str(args.deadline), "--balancer", args.balancer,
                     "--spread", str(args.spread),
                     *(["--max-retry-after"] if args.max_retry_after else [])],
                    {}, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
            children += clients
            opened = time.monotonic()
            await asyncio.gather(*(read_line(c, "ready", 600) for c in clients))
            held = await connections(http, port_a)
            print(f"A holds {held} sockets (opened in {time.monotonic() - opened:.1f} s); "
                  f"B holds {await connections(http, port_b)}")
            await asyncio.sleep(3.0)
            load_before = os.getloadavg()
            b_before_kib = rss_kib(gateway_b.pid)
            cpu_before = [cpu_seconds(gateway_b.pid)] + [cpu_seconds(c.pid) for c in clients]
            sigterm = time.monotonic()
            gateway_a.send_signal(signal.SIGTERM)
            exited: float | None = None
            hung, dumped = 0.0, False
            peak_rss = b_before_kib
            timeline: list[tuple[float, int | None, float, int, int]] = []
            overflows_before = listen_overflows()
            last_cpu, last_at = cpu_before[0], sigterm
            a_cpu_before = a_cpu = cpu_seconds(gateway_a.pid)
            waiting = asyncio.ensure_future(asyncio.gather(
                *(read_line(c, "done", args.deadline + 120) for c in clients)))
            while not waiting.done():
                if exited is None and gateway_a.poll() is not None:
                    exited = time.monotonic()
                with contextlib.suppress(OSError, IndexError, ValueError):
                    a_cpu = cpu_seconds(gateway_a.pid)  # the last reading before it exits
                peak_rss = max(peak_rss, rss_kib(gateway_b.pid))
                if not dumped and time.monotonic() - sigterm > args.dump_b_at:
                    gateway_b.send_signal(signal.SIGUSR2)  # where B's handshakes wait, mid-storm
                    dumped = True
                held_now = await connections(http, port_b)
                now, cpu_now = time.monotonic(), cpu_seconds(gateway_b.pid)
                timeline.append((now - sigterm, held_now, (cpu_now - last_cpu) / (now - last_at),
                                 open_fds(gateway_b.pid), accept_queue(port_b)))
                last_cpu, last_at = cpu_now, now
                await asyncio.wait([waiting], timeout=0.5)
            await waiting
            if exited is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    gateway_a.wait(30)
                    exited = time.monotonic()
            if exited is None:  # still draining 30 s after the last phone came back
                gateway_a.send_signal(signal.SIGUSR2)
                await asyncio.sleep(3.0)
                hung = time.monotonic() - sigterm
                gateway_a.kill()
            load_after = os.getloadavg()
            overflows = listen_overflows() - overflows_before
            cpu = [cpu_seconds(gateway_b.pid) - cpu_before[0],
                   sum(cpu_seconds(c.pid) for c in clients) - sum(cpu_before[1:])]
            storm_seconds = time.monotonic() - sigterm
            await asyncio.sleep(2.0)
            b_held = await connections(http, port_b)
            b_after_kib, b_hwm_kib = rss_kib(gateway_b.pid), hwm_kib(gateway_b.pid)
            metrics = handshake_counts((await http.get(
                f"http://127.0.0.1:{metrics_b}/metrics")).text)
            fetches_a, fetches_b = len(origin_a.requests), len(origin_b.requests)
            for client in clients:
                assert client.stdin is not None
                client.stdin.close()
            for client in clients:
                client.wait(60)
        finally:
            for child in reversed(children):
                stop(child)
            store = redis.Redis.from_url(REDIS_URL)
            stale = [k async for k in store.scan_iter(match=f"{prefix}*")]
            if stale:
                await store.delete(*stale)
            await store.aclose()
    for node, path in logs.items():
        for message, n in log_lines(path).most_common(20):
            print(f"gateway {node} logged {n} x {message}")
        path.unlink(missing_ok=True)

    merged: dict[str, list[float | None]] = {"closed_at": [], "back_at": [], "attempts": [],
                                             "first_waits": []}
    failures: Counter[str] = Counter()
    failure_times: list[float] = []
    codes: Counter[str] = Counter()
    for path in results:
        part = json.loads(path.read_text())
        path.unlink()
        for name in merged:
            merged[name] += part[name]
        failures.update(part["failures"])
        failure_times += part["failure_times"]
        codes.update(part["close_codes"])
    report(args, count, processes, sigterm, exited, merged, failures, failure_times, codes,
           held, b_held, fetches_a, fetches_b, metrics, timeline,
           (b_idle_kib, b_before_kib, peak_rss, b_after_kib, b_hwm_kib),
           load_before, load_after)
    print(f"connections dropped at a full accept queue during the storm (whole machine, "
          f"TcpExtListenOverflows): {overflows}")
    if exited is None:
        print(f"A HAD NOT EXITED {hung:.0f} s after SIGTERM: killed (where its tasks waited: "
              "above)")
    print(f"A's CPU from SIGTERM to its last reading (<= 0.5 s before it exited): "
          f"{a_cpu - a_cpu_before:.1f} s")
    print(f"CPU during the storm ({storm_seconds:.1f} s, SIGTERM to the last phone back): "
          f"gateway B {cpu[0]:.1f} s ({cpu[0] / max(1, count) * 1e6:.0f} us per phone), "
          f"client processes {cpu[1]:.1f} s")


def report(args: argparse.Namespace, count: int, processes: int, sigterm: float,
           exited: float | None, merged: dict[str, list[float | None]], failures: Counter[str],
           failure_times: list[float], codes: Counter[str], held: int | None,
           b_held: int | None, fetches_a: int, fetches_b: int, metrics: dict[str, float],
           timeline: list[tuple[float, int | None, float, int, int]], memory: tuple[int, ...],
           load_before: tuple[float, ...], load_after: tuple[float, ...]) -> None:
    backs = [b - sigterm for b in merged["back_at"] if b is not None]
    closes = [c - sigterm for c in merged["closed_at"] if c is not None]
    own = [b - c for b, c in zip(merged["back_at"], merged["closed_at"], strict=True)
           if b is not None and c is not None]
    attempts = [int(a) for a in merged["attempts"] if a is not None]
    rule = "max(Retry-After, jitter)" if args.max_retry_after else "Retry-After + jitter"
    print(f"\n{count} phones in {processes} client processes, balancer {args.balancer!r}, "
          f"backoff {rule}, A's paced drain {args.drain:.0f} s"
          f"{f', 1012s spread over {args.spread:.0f} s (a paced drain)' if args.spread else ''}")
    print(f"load average before {load_before[0]:.2f}/{load_before[1]:.2f}, "
          f"after {load_after[0]:.2f}/{load_after[1]:.2f} (1/5 min)")
    drained = f"{exited - sigterm:.2f} s" if exited is not None else "NOT AT ALL (killed)"
    print(f"A held {held}; drain: SIGTERM -> A exited in {drained}; "
          f"1012 received from {min(closes):.3f} to {max(closes):.3f} s after SIGTERM")
    print("close codes (negative: on B afterwards): "
          + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())))
    print(f"back on B: {len(backs)}/{count} (B says it holds {b_held})")
    if backs:
        marks = "  ".join(f"{int(q * 100)} % {percentile(backs, q):.1f} s"
                          for q in (0.5, 0.9, 0.99, 1.0))
        print(f"  since SIGTERM:     {marks}")
        marks = "  ".join(f"{int(q * 100)} % {percentile(own, q):.1f} s"
                          for q in (0.5, 0.9, 0.99, 1.0))
        print(f"  since its own 1012: {marks}")
    print(f"attempts per phone: median {statistics.median(attempts):.0f}, "
          f"p99 {percentile([float(a) for a in attempts], 0.99):.0f}, max {max(attempts)}; "
          f"first waits <= {max(w for w in merged['first_waits'] if w is not None):.2f} s")
    print(f"refused or failed attempts: {sum(failures.values())}")
    for label, n in failures.most_common():
        print(f"  {n:7d}  {label}")
    print("B's own count (atelier_gateway_handshakes_total): "
          + ", ".join(f"{k} = {v:.0f}" for k, v in sorted(metrics.items())))
    print(f"JWKS fetches: node A {fetches_a}, node B {fetches_b}")
    if backs:
        per_second = Counter(int(b) for b in backs)
        span = max(backs) - min(backs)
        busy = [per_second.get(s, 0) for s in range(int(min(backs)), int(max(backs)) + 1)]
        print(f"B accepted {len(backs) / span if span else 0:.0f} handshakes/s on average over "
              f"{span:.1f} s; per-second median {statistics.median(busy):.0f}, "
              f"peak {max(busy)}")
        tried = Counter(int(t - sigterm) for t in failure_times)
        seconds = sorted(set(per_second) | set(tried))[:12]
        print("  first seconds (accepted/refused): " + ", ".join(
            f"{s}s {per_second.get(s, 0)}/{tried.get(s, 0)}" for s in seconds))
    idle, before, peak, after, hwm = memory
    print(f"B RSS: idle {idle / 1024:.0f} MiB, before the storm {before / 1024:.0f} MiB, "
          f"peak sampled {peak / 1024:.0f} MiB (VmHWM {hwm / 1024:.0f} MiB), "
          f"after {after / 1024:.0f} MiB holding {b_held}")
    print("B over time: seconds after SIGTERM, sockets open, CPU (share of one core), open "
          "fds, accept queue")
    for t, open_now, c, fds, queue in timeline[::max(1, len(timeline) // 24)]:
        print(f"  {t:5.1f}s {open_now!s:>6} {c:5.0%} {fds:6d} {queue:5d}")


def await_chain(task: "asyncio.Task[object]") -> str:
    """Where a task waits: its coroutine and each coroutine it awaits, innermost last."""
    where: list[str] = []
    coro: Any = task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        where.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} "
                     f"{frame.f_code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return " > ".join(where[-5:])


def dump_tasks(_signum: int, _frame: object) -> None:
    """SIGUSR2: one JSON line per distinct await chain of the running loop's tasks."""
    loop = asyncio._get_running_loop()
    chains = Counter(await_chain(t) for t in asyncio.all_tasks(loop)) if loop else Counter()
    for chain, n in chains.most_common(12):
        print(json.dumps({"level": "tasks", "msg": f"{n} waiting at", "error": chain}),
              file=sys.stderr, flush=True)
    import gc  # an async generator (an @asynccontextmanager) hides what it awaits from tasks
    import types

    suspended: Counter[str] = Counter()
    for thing in gc.get_objects():
        if not isinstance(thing, types.AsyncGeneratorType):
            continue
        frame = thing.ag_frame
        if frame is not None:
            where = [f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} "
                     f"{frame.f_code.co_name}"]
            inner = thing.ag_await
            while inner is not None and len(where) < 6:
                inner_frame = getattr(inner, "cr_frame", None) or getattr(inner, "gi_frame", None)
                if inner_frame is None:
                    where.append(type(inner).__name__)
                    break
                where.append(f"{Path(inner_frame.f_code.co_filename).name}:"
                             f"{inner_frame.f_lineno} {inner_frame.f_code.co_name}")
                inner = getattr(inner, "cr_await", None) or getattr(inner, "gi_yieldfrom", None)
            suspended[" > ".join(where)] += 1
    for chain, n in suspended.most_common(12):
        print(json.dumps({"level": "generators", "msg": f"{n} suspended at", "error": chain}),
              file=sys.stderr, flush=True)


def serve_gateway(port: int) -> None:
    """`atelier serve gateway`, plus a SIGUSR2 that lists where its tasks wait (a drain that
    does not end can then say why)."""
    from entrypoints.cli.main import main as atelier

    signal.signal(signal.SIGUSR2, dump_tasks)
    sys.exit(atelier(["serve", "gateway", "--host", "127.0.0.1", "--port", str(port)]))


def main() -> None:
    if sys.argv[1:2] == ["--serve-gateway"]:
        serve_gateway(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=15000)
    parser.add_argument("--deadline", type=float, default=300.0,
                        help="seconds after its first 1012 a client process waits")
    parser.add_argument("--balancer", choices=("b", "random"), default="b",
                        help="b: the balancer sends every reconnect to B; random: A or B")
    parser.add_argument("--max-retry-after", action="store_true",
                        help="the formula documented before: max(Retry-After, jitter) instead "
                             "of Retry-After + jitter")
    parser.add_argument("--drain", type=float, default=30.0,
                        help="A's ATELIER_GATEWAY_DRAIN_SECONDS (0: every 1012 at once)")
    parser.add_argument("--spread", type=float, default=0.0,
                        help="each phone waits random(0, S) after its 1012 before the backoff: "
                             "what B would see if A closed its sockets evenly over S seconds")
    parser.add_argument("--dump-b-at", type=float, default=30.0,
                        help="seconds after SIGTERM to list where B's tasks wait (SIGUSR2)")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(storm(args))


if __name__ == "__main__":
    main()
