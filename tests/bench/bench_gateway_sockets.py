"""The gateway under `atelier serve gateway` (uvicorn, wsproto, uvloop) in a subprocess:

- memory per open connection at N sockets (RSS delta / N once all N are open and idle) vs
  the `websockets` library's own server holding the same N (goal <= 1.15x at 18,000);
- fan-out of one Redis-published message to N sockets vs a `websockets` `broadcast()`
  server fed by the same Redis (goal <= 1.1x);
- handshakes per second with token verification vs with verification replaced by a no-op.

    uv run python -m tests.bench.bench_gateway_sockets [--sockets 5000]
    uv run python -m tests.bench.bench_gateway_sockets --sockets 18000 --sockets-only

The sockets are held by client processes (`tests.bench.socket_clients`, 4,000 sockets at
most each: the machine allows 20,000 descriptors per process) from 127.0.0.2 upwards, 150
per source address, so the gateway's per-address cap (200) stays on. Tokens live 15 min
(ATELIER_CONNECTION_TOKEN_TTL_SECONDS=900) so that those signed first outlast the opening.

Needs Redis at ATELIER_TEST_REDIS (default redis://127.0.0.1:6379/15).
"""

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import redis.asyncio as redis
from websockets.asyncio.client import ClientConnection, connect

from adapters.redis.bus import RedisRealtimeBus
from tests.support.gateway import ISSUER, CountingOrigin, claims, new_key, sign
from tests.support.server import serving

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("ATELIER_TEST_REDIS", "redis://127.0.0.1:6379/15")
TOKEN_TTL = 900
LOGS = ROOT / ".atelier" / "bench-gateway"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@contextlib.contextmanager
def process(
    args: list[str], env: dict[str, str], log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with contextlib.ExitStack() as stack:
        err = stack.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        child = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **env},
                                 stdout=subprocess.DEVNULL, stderr=err)
        try:
            yield child
        finally:
            child.terminate()
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()


async def wait_port(port: int, path: str | None) -> None:
    for _ in range(300):
        with contextlib.suppress(OSError, httpx.HTTPError):
            if path is None:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            async with httpx.AsyncClient(trust_env=False) as client:
                if (await client.get(f"http://127.0.0.1:{port}{path}")).status_code == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


async def open_many(url: str, tokens: list[str]) -> list[ClientConnection]:
    gate = asyncio.Semaphore(100)

    async def one(token: str) -> ClientConnection:
        async with gate:
            return await connect(f"{url}?token={token}" if token else url, compression=None,
                                 open_timeout=60,
                                 ping_interval=None, max_size=2**16)

    return list(await asyncio.gather(*(one(t) for t in tokens)))


class Clients:
    """The bench's sockets, held by client processes (`tests.bench.socket_clients`) of at
    most PER_PROCESS sockets each, from 127.0.0.2 upwards, at most PER_ADDRESS per source
    address: the gateway's per-address cap (200 by default) stays on."""

    PER_PROCESS = 4000
    PER_ADDRESS = 150

    def __init__(self, children: list[asyncio.subprocess.Process]) -> None:
        self._children = children
        self.retried = 0  # handshakes answered 503 (node busy) and tried again

    @classmethod
    @contextlib.asynccontextmanager
    async def holding(cls, url: str, tokens: list[str]) -> AsyncIterator["Clients"]:
        processes = -(-len(tokens) // cls.PER_PROCESS)
        addresses = [f"127.0.{(i + 2) // 256}.{(i + 2) % 256}"
                     for i in range(-(-len(tokens) // cls.PER_ADDRESS))]
        children: list[asyncio.subprocess.Process] = []
        try:
            for p in range(processes):
                child = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "tests.bench.socket_clients", cwd=ROOT,
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**20)
                children.append(child)
                assert child.stdin is not None
                child.stdin.write(json.dumps({"url": url, "tokens": tokens[p::processes],
                                              "sources": addresses[p::processes]}).encode()
                                  + b"\n")
                await child.stdin.drain()
            clients = cls(children)
            opened = await clients._answers("open")
            if sum(int(line.split()[1]) for line in opened) != len(tokens):
                raise RuntimeError(f"not every socket opened: {opened}")
            clients.retried = sum(int(line.split()[2]) for line in opened)
            yield clients
        finally:
            for child in children:
                if child.returncode is None and child.stdin is not None:
                    child.stdin.write(b"close\n")
                    child.stdin.close()
            for child in children:
                try:
                    await asyncio.wait_for(child.wait(), 60)
                except TimeoutError:
                    child.kill()

    async def _answers(self, expected: str) -> list[str]:
        async def answer(child: asyncio.subprocess.Process) -> str:
            assert child.stdout is not None
            line = (await child.stdout.readline()).decode().strip()
            if not line.startswith(expected):
                raise RuntimeError(f"client process said {line!r}, not {expected!r}")
            return line

        return list(await asyncio.gather(*(answer(c) for c in self._children)))

    async def fan_out_ms(self, publish: object, rounds: int, pid: int) -> tuple[float, float]:
        """Median wall-clock ms from the publish to the last socket's frame, and median CPU
        ms the server (`pid`) spent over the same span (what the box's load moves least)."""
        times, cpu_times = [], []
        for n in range(rounds):
            for child in self._children:
                assert child.stdin is not None
                child.stdin.write(b"recv\n")
            await self._answers("armed")
            await asyncio.sleep(0.2)
            cpu, started = cpu_seconds(pid), time.perf_counter()
            await publish(n)  # type: ignore[operator]
            await self._answers("got")
            times.append((time.perf_counter() - started) * 1000)
            cpu_times.append((cpu_seconds(pid) - cpu) * 1000)
            await asyncio.sleep(0.3)
        return statistics.median(times), statistics.median(cpu_times)


@contextlib.asynccontextmanager
async def origin() -> AsyncIterator[tuple[str, object]]:
    key = new_key()
    async with serving(CountingOrigin(keys=[key])) as url:
        yield f"{url}/.well-known/jwks.json", key


def gateway_env(jwks_url: str, prefix: str) -> dict[str, str]:
    return {
        "ATELIER_REDIS_URL": REDIS_URL, "ATELIER_ISSUER": ISSUER, "ATELIER_JWKS_URL": jwks_url,
        "ATELIER_REALTIME_BUS_PREFIX": prefix, "ATELIER_LOG_LEVEL": "WARNING",
        "ATELIER_GATEWAY_HANDSHAKES_PER_SECOND": "100000",
        "ATELIER_GATEWAY_HANDSHAKE_BURST": "100000",
        # tokens signed up front must outlive opening every socket (18,000 take minutes)
        "ATELIER_CONNECTION_TOKEN_TTL_SECONDS": str(TOKEN_TTL),
        "ATELIER_DATA_DIR": str(ROOT / ".atelier" / "bench-gateway"),
    }


def bench_tokens(key: object, prefix: str, count: int) -> list[str]:
    now = int(time.time())
    return [sign(key, claims(f"{prefix}{i}", exp=now + TOKEN_TTL))  # type: ignore[arg-type]
            for i in range(count)]


async def memory_and_fan_out(count: int, rounds: int) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    prefix = f"atelier:bench:{secrets.token_hex(4)}:"
    client = redis.Redis.from_url(REDIS_URL)
    bus = RedisRealtimeBus(client, prefix=prefix)
    payload = {"kind": "image.ready", "id": "01J" + "X" * 23, "pad": "y" * 40}
    async with origin() as (jwks_url, key):
        tokens = bench_tokens(key, "u", count)
        warm = bench_tokens(key, "w", 50)
        port = free_port()
        with process(["-m", "entrypoints.cli.main", "serve", "gateway", "--host", "127.0.0.1",
                      "--port", str(port)], gateway_env(jwks_url, prefix),
                     LOGS / "gateway-sockets.log") as gateway:
            await wait_port(port, "/readyz")
            url = f"ws://127.0.0.1:{port}/v1/realtime"
            warmed = await open_many(url, warm)
            await asyncio.gather(*(ws.close() for ws in warmed))
            await asyncio.sleep(1.0)
            before = rss_kib(gateway.pid)
            started = time.perf_counter()
            async with Clients.holding(url, tokens) as clients:
                opened_in = time.perf_counter() - started
                await asyncio.sleep(3.0)
                after = rss_kib(gateway.pid)
                per = (after - before) / count

                async def publish_gateway(n: int) -> None:
                    await bus.publish("broadcast", {**payload, "n": n})

                gateway_ms, gateway_cpu = await clients.fan_out_ms(publish_gateway, rounds,
                                                                    gateway.pid)
                retried = clients.retried
            print(f"gateway: {count} sockets (opened in {opened_in:.0f} s, {retried} handshakes "
                  f"refused 503 and retried; log in {LOGS}), RSS "
                  f"{before / 1024:.0f} -> {after / 1024:.0f} MiB, {per:.2f} KiB per connection",
                  flush=True)

        channel = f"{prefix}reference"
        port = free_port()
        with process(["-m", "tests.bench.ws_reference", "--port", str(port), "--redis",
                      REDIS_URL, "--channel", channel], {}) as reference:
            await wait_port(port, None)
            url = f"ws://127.0.0.1:{port}/"
            warmed = await open_many(url, [""] * len(warm))
            await asyncio.gather(*(ws.close() for ws in warmed))
            await asyncio.sleep(1.0)
            ref_before = rss_kib(reference.pid)
            async with Clients.holding(url, [""] * count) as clients:
                await asyncio.sleep(3.0)
                ref_after = rss_kib(reference.pid)
                ref_per = (ref_after - ref_before) / count

                async def publish_reference(n: int) -> None:
                    await client.publish(channel, json.dumps(
                        {"channel": "broadcast", "data": {**payload, "n": n}}))

                reference_ms, reference_cpu = await clients.fan_out_ms(
                    publish_reference, rounds, reference.pid)
            print(f"websockets server: {count} sockets, RSS {ref_before / 1024:.0f} -> "
                  f"{ref_after / 1024:.0f} MiB, {ref_per:.2f} KiB per connection", flush=True)
    await client.aclose()
    print(f"memory per connection at {count} sockets: gateway {per:.2f} KiB, websockets "
          f"server {ref_per:.2f} KiB, ratio {per / ref_per:.3f}x "
          f"(load average {os.getloadavg()[0]:.1f})")
    print(f"fan-out of one message to {count} sockets (median of {rounds}): gateway "
          f"{gateway_ms:.0f} ms, websockets broadcast() {reference_ms:.0f} ms, "
          f"ratio {gateway_ms / reference_ms:.2f}x; server CPU over the same span: gateway "
          f"{gateway_cpu:.0f} ms, websockets {reference_cpu:.0f} ms, "
          f"ratio {gateway_cpu / reference_cpu:.2f}x")


async def raw_handshake(port: int, token: str) -> None:
    """A bare RFC 6455 opening handshake (no client library), so the client costs little."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = secrets.token_urlsafe(16)
    writer.write((f"GET /v1/realtime?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                  ).encode())
    head = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head[:60])


def cpu_seconds(pid: int) -> float:
    """CPU time the process's main thread (uvicorn's event loop) has run, in ns precision."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


async def handshakes_per_second(
    total: int, batches: int = 5, cryptography: bool = False
) -> None:
    """Each batch goes to one server then the other (same tokens); rates are per wall-clock
    second and per CPU second of the server (handshakes per core: what the load of a shared
    machine moves least, as a server waiting for a core spends no CPU time meanwhile)."""
    async with origin() as (jwks_url, key):
        tokens = bench_tokens(key, "h", total)
        env = gateway_env(jwks_url, "atelier:bench:hs:")
        env["ATELIER_REDIS_URL"] = ""
        # every handshake here comes from 127.0.0.1, faster than closes may be noticed
        env["ATELIER_GATEWAY_MAX_SOCKETS_PER_IP"] = "1000000"
        modes = {"verified": [], "no verification": ["--no-verify"]}
        if cryptography:
            modes["verified, cryptography"] = ["--cryptography"]
        ports = {label: free_port() for label in modes}
        with contextlib.ExitStack() as servers:
            pids = {label: servers.enter_context(process(
                ["-m", "tests.bench.gateway_server", "--port", str(ports[label]), *extra],
                env)).pid for label, extra in modes.items()}
            for port in ports.values():
                await wait_port(port, "/readyz")
            rates: dict[str, list[float]] = {label: [] for label in ports}
            per_cpu: dict[str, list[float]] = {label: [] for label in ports}
            gate = asyncio.Semaphore(20)

            async def one(port: int, token: str) -> None:
                async with gate:
                    await raw_handshake(port, token)

            for batch in range(batches):  # alternate the two servers, batch by batch
                for label, port in ports.items():
                    chunk = tokens[batch::batches]
                    cpu, started = cpu_seconds(pids[label]), time.perf_counter()
                    await asyncio.gather(*(one(port, t) for t in chunk))
                    await asyncio.sleep(0.3)  # the server sees every close
                    rates[label].append(len(chunk) / (time.perf_counter() - started - 0.3))
                    per_cpu[label].append(len(chunk) / (cpu_seconds(pids[label]) - cpu))
    for name, figures in (("per wall-clock second", rates), ("per CPU second", per_cpu)):
        plain = statistics.median(figures["no verification"])
        for label in (label for label in modes if label != "no verification"):
            verified = statistics.median(figures[label])
            ratio = statistics.median(a / b for a, b in zip(
                figures[label], figures["no verification"], strict=True))
            print(f"handshakes {name} (median of {batches} alternating batches, bare "
                  f"client): {label} {verified:.0f}, no verification {plain:.0f}, ratio of "
                  f"medians {verified / plain:.2f}x, median of the batch pairs' ratios "
                  f"{ratio:.2f}x (load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--handshakes", type=int, default=1500)
    parser.add_argument("--handshake-batches", type=int, default=5)
    parser.add_argument("--cryptography", action="store_true",
                        help="a third server whose Ed25519 check is cryptography's (as before)")
    parser.add_argument("--handshakes-only", action="store_true")
    parser.add_argument("--sockets-only", action="store_true")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if not args.handshakes_only:
        asyncio.run(memory_and_fan_out(args.sockets, args.rounds))
    if not args.sockets_only:
        asyncio.run(handshakes_per_second(args.handshakes, args.handshake_batches,
                                          args.cryptography))


if __name__ == "__main__":
    main()
