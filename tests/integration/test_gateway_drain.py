"""A gateway's drain (issue #16, the reconnect storm): SIGTERM closes the sockets with 1012
evenly over `gateway_drain_seconds` while the listener stays open and answers new
handshakes 503 `draining`; a second signal closes the rest at once; the process exits
within a bound of the drain's end even when Redis stops answering; a crowd over the
handshake rate is told staggered Retry-Afters."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from adapters.memory.bus import InMemoryRealtimeBus
from entrypoints.edge_gateway import server as gateway_server
from entrypoints.edge_gateway.admission import TokenBucket
from entrypoints.edge_gateway.gateway import Gateway
from entrypoints.edge_gateway.server import SHUTDOWN_BOUND, GatewayServer
from entrypoints.wiring.di import resolve
from tests.integration.test_gateway_redis import free_port, wait_ready
from tests.support.crowd import address
from tests.support.gateway import (
    ISSUER,
    CountingOrigin,
    claims,
    gateway_settings,
    new_key,
    running_gateway,
    sign,
)
from tests.support.server import serving

ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def gateway(**overrides: Any) -> AsyncIterator[tuple[str, Any, Gateway]]:
    key = new_key()
    async with (
        serving(CountingOrigin(keys=[key])) as origin_url,
        running_gateway(gateway_settings(origin_url + "/jwks", **overrides),
                        InMemoryRealtimeBus()) as (url, c),
    ):
        yield url, key, await resolve(c.gateway)


async def open_sockets(url: str, key: Any, count: int) -> list[ClientConnection]:
    return list(await asyncio.gather(*(
        connect(f"{url}?token={sign(key, claims(f'user-{n}'))}", open_timeout=20)
        for n in range(count))))


async def closed_at(ws: ClientConnection, start: float) -> tuple[float, int | None]:
    await ws.wait_closed()
    return time.monotonic() - start, ws.close_code


async def refusal(url: str, token: str) -> tuple[int, str | None]:
    try:
        async with connect(f"{url}?token={token}", open_timeout=10):
            return 101, None
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.headers.get("retry-after")


async def test_a_paced_drain_closes_the_sockets_evenly_and_refuses_new_ones_meanwhile() -> None:
    async with gateway() as (url, key, node):
        sockets = await open_sockets(url, key, 40)
        start = time.monotonic()
        closes = asyncio.gather(*(closed_at(ws, start) for ws in sockets))
        drain = asyncio.create_task(node.drain(over=2.0))
        await asyncio.sleep(0.3)
        assert await refusal(url, sign(key, claims())) == (503, "1")
        async with httpx.AsyncClient(trust_env=False) as http:
            ready = await http.get(url.replace("ws://", "http://") + "/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["accepting"] != "ok"
        await drain
        times = sorted(t for t, _ in await closes)
        assert {code for _, code in await closes} == {1012}
        assert times[0] < 0.6, times  # the first slice goes at once...
        assert times[-1] > 1.5, times  # ...the last near the end of the 2 s
        halfway = sum(t <= 1.0 for t in times)
        assert 10 <= halfway <= 30, times  # evenly, not in one burst
        assert node.connections == 0


async def test_hurry_closes_what_a_paced_drain_has_left_at_once() -> None:
    async with gateway() as (url, key, node):
        sockets = await open_sockets(url, key, 20)
        start = time.monotonic()
        closes = asyncio.gather(*(closed_at(ws, start) for ws in sockets))
        drain = asyncio.create_task(node.drain(over=60.0))
        await asyncio.sleep(0.5)
        node.hurry()
        await asyncio.wait_for(drain, 5)
        assert max(t for t, _ in await closes) < 3.0


async def test_a_crowd_over_the_handshake_rate_is_told_its_turns() -> None:
    async with gateway(gateway_handshakes_per_second=2, gateway_handshake_burst=1) as (
            url, key, _):
        answers = [await refusal(url, sign(key, claims())) for _ in range(7)]
        assert answers[0] == (101, None)
        waits = [int(retry) for status, retry in answers[1:] if status == 503 and retry]
        assert len(waits) >= 5, answers
        assert waits == sorted(waits) and waits[-1] >= 2, answers  # not all 1 s


async def test_a_crowd_at_once_from_24_addresses_gets_the_rate_and_staggered_turns() -> None:
    """24 handshakes at once, each from its own loopback address (so the per-address cap
    cannot be what refuses them): the node admits no more than its bucket allows, refuses
    the rest with 503 and a Retry-After, and the turns it hands out are not all the same."""

    async def attempt(n: int, url: str, token: str) -> tuple[int, str | None]:
        try:
            async with connect(f"{url}?token={token}", open_timeout=20,
                               local_addr=(address(n), 0)):
                return 101, None
        except InvalidStatus as exc:
            return exc.response.status_code, exc.response.headers.get("retry-after")

    async with gateway(gateway_handshakes_per_second=2, gateway_handshake_burst=1) as (
            url, key, _):
        tokens = [sign(key, claims(f"user-{n}")) for n in range(24)]
        start = time.monotonic()
        answers = await asyncio.gather(*(attempt(n, url, t) for n, t in enumerate(tokens)))
        elapsed = time.monotonic() - start
    accepted = [a for a in answers if a[0] == 101]
    refused = [a for a in answers if a[0] == 503]
    assert len(accepted) + len(refused) == 24, answers
    assert 1 <= len(accepted) <= 1 + 2 * elapsed + 1, (answers, elapsed)
    waits = [int(retry) for _, retry in refused if retry]
    assert len(waits) == len(refused) and min(waits) >= 1, answers
    assert len(set(waits)) > 1, answers  # told their turns, not all "1"


def test_retry_after_spreads_a_crowd_over_the_bucket_s_pace_up_to_30_s() -> None:
    now = [0.0]
    bucket = TokenBucket(500, 1000, monotonic=lambda: now[0])
    for _ in range(1000):
        assert bucket.take() == 0.0
    waits = []
    for _ in range(20_000):  # refused within the same instant
        assert bucket.take() > 0
        waits.append(bucket.retry_after())
    assert min(waits) == 1 and max(waits) == 30
    assert 400 <= waits.count(10) <= 600  # 500 a second: one second's turns per value
    now[0] = 60.0  # the crowd has gone: a lone refusal waits 1 s again
    assert bucket.retry_after() == 1


# --- the served process: SIGTERM, with and without a Redis that answers


@contextlib.contextmanager
def gateway_process(env: dict[str, str], tmp_path: Path) -> Iterator[
        tuple[str, "subprocess.Popen[bytes]", Path]]:
    port = free_port()
    log_path = tmp_path / f"gateway-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli.main", "serve", "gateway",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield f"127.0.0.1:{port}", process, log_path
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


async def exited_within(process: "subprocess.Popen[bytes]", seconds: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if process.poll() is not None:
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    return None


def process_env(origin_url: str, tmp_path: Path, drain: float, **extra: str) -> dict[str, str]:
    return {"ATELIER_ISSUER": ISSUER, "ATELIER_JWKS_URL": f"{origin_url}/.well-known/jwks.json",
            "ATELIER_DATA_DIR": str(tmp_path), "ATELIER_LOG_LEVEL": "INFO",
            "ATELIER_GATEWAY_DRAIN_SECONDS": str(drain), **extra}


async def test_sigterm_drains_at_a_pace_with_the_listener_open_then_exits(
    tmp_path: Path
) -> None:
    key = new_key()
    async with serving(CountingOrigin(keys=[key])) as origin_url:
        with gateway_process(process_env(origin_url, tmp_path, 3.0), tmp_path) as (
                address, process, _):
            await wait_ready(address)
            url = f"ws://{address}/v1/realtime"
            sockets = await open_sockets(url, key, 30)
            start = time.monotonic()
            closes = asyncio.gather(*(closed_at(ws, start) for ws in sockets))
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            # still listening: a late phone is told to go elsewhere, not refused a connection
            assert await refusal(url, sign(key, claims())) == (503, "1")
            async with httpx.AsyncClient(trust_env=False) as http:
                assert (await http.get(f"http://{address}/readyz")).status_code == 503
            times = sorted(t for t, _ in await closes)
            assert {code for _, code in await closes} == {1012}
            assert times[0] < 1.0 and times[-1] > 2.0, times
            assert await exited_within(process, 3.0 + 20) is not None


async def test_a_second_sigterm_closes_the_rest_at_once(tmp_path: Path) -> None:
    key = new_key()
    async with serving(CountingOrigin(keys=[key])) as origin_url:
        with gateway_process(process_env(origin_url, tmp_path, 60.0), tmp_path) as (
                address, process, _):
            await wait_ready(address)
            sockets = await open_sockets(f"ws://{address}/v1/realtime", key, 20)
            start = time.monotonic()
            closes = asyncio.gather(*(closed_at(ws, start) for ws in sockets))
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(1.0)
            process.send_signal(signal.SIGTERM)
            assert max(t for t, _ in await asyncio.wait_for(closes, 10)) < 5.0
            assert await exited_within(process, 20) is not None


class FreezableProxy:
    """A TCP proxy in front of Redis that can stop forwarding without closing anything:
    a Redis that stops answering."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream, self.frozen = upstream, asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                if self.frozen.is_set():
                    await asyncio.Event().wait()  # swallowed: never forwarded, never closed
                writer.write(data)
                await writer.drain()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[int]:
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            for writer in self._writers:
                writer.transport.abort()


@pytest.mark.redis
async def test_a_redis_that_stops_answering_during_the_drain_does_not_keep_the_node_alive(
    redis_url: str, tmp_path: Path
) -> None:
    key = new_key()
    host_port = redis_url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = FreezableProxy((host, int(port)))
    async with serving(CountingOrigin(keys=[key])) as origin_url, proxy.running() as proxy_port:
        env = process_env(origin_url, tmp_path, 1.0,
                          ATELIER_REDIS_URL=f"redis://127.0.0.1:{proxy_port}/12",
                          ATELIER_REALTIME_BUS_PREFIX=f"atelier:test:drain:{os.getpid()}:")
        with gateway_process(env, tmp_path) as (address, process, log_path):
            await wait_ready(address)
            sockets = await open_sockets(f"ws://{address}/v1/realtime", key, 20)
            proxy.frozen.set()
            await asyncio.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            took = await exited_within(process, 1.0 + SHUTDOWN_BOUND + 5)
            log = log_path.read_text()
            assert took is not None, log[-3000:]
            assert all(ws.close_code == 1012 for ws in sockets)


async def test_a_shutdown_that_hangs_past_the_bound_ends_the_process(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever hangs (a lifespan exit that never returns), the watchdog ends the process
    `shutdown_bound` seconds after the drain."""
    gave_up, released = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(gateway_server, "_give_up",
                        lambda bound: loop.call_soon_threadsafe(gave_up.set))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        while not released.is_set():  # a step that hangs and shrugs off its cancellation
            with contextlib.suppress(asyncio.CancelledError):
                await released.wait()
        await send({"type": "lifespan.shutdown.complete"})

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = GatewayServer(config, drain_seconds=0.0, shutdown_bound=0.5)
    task = asyncio.create_task(server._serve())  # not serve(): no process signal handlers
    while not server.started:
        await asyncio.sleep(0.01)
    start = time.monotonic()
    server.handle_exit(signal.SIGTERM, None)
    await asyncio.wait_for(gave_up.wait(), 5)
    assert 0.4 < time.monotonic() - start < 3
    released.set()
    await asyncio.wait_for(task, 5)
