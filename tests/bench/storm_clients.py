"""One client process of the reconnect-storm bench (`bench_reconnect_storm`): `--count`
phones, each holding one socket on gateway A, then, once A closes it with 1012, coming back
to gateway B with the backoff of docs/realtime.md ("Backoff"):

    delay = retry_after + random(0, min(30 s, 0.5 s * 2^attempt))

(`--max-retry-after`: the formula documented before, `max(retry_after, random(...))`).

`attempt` is 0 at the 1012 (the sockets had been open for long) and counts each failure
after it. Every attempt mints a fresh connection token, as the app's `fetchToken` does.

The client is a bare RFC 6455 client (asyncio streams on uvloop: the opening handshake, pong
to pings, echo of the close frame) so that 15,000 of them cost the machine little. Each
phone binds one of the `--sources` loopback addresses, as phones come from many addresses.

Protocol with the parent: prints `ready` once every socket is open on A, `done` once every
phone is back on B (or `--deadline` seconds after the first 1012) and its results are in
`--result`; exits, closing its sockets, when its stdin closes.
"""

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import resource
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import uvloop

from adapters.crypto.eddsa import EdDSASigner
from domain.keys.model import SigningKey
from tests.support.gateway import claims

HANDSHAKE_TIMEOUT = 10.0  # OkHttp's default connect timeout
OPEN_CONCURRENCY = 100  # initial handshakes on A in flight per process (the set-up, unmeasured)


@dataclass
class Phone:
    index: int
    source: str
    closed_at: float | None = None
    close_code: int | None = None
    back_at: float | None = None
    attempts: int = 0
    waits: list[float] = field(default_factory=list)


@dataclass
class Answer:
    status: int  # 101, an HTTP status, or 0 when no answer came (see `failure`)
    failure: str = ""
    retry_after: float = 0.0
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None


class Storm:
    def __init__(self, args: argparse.Namespace) -> None:
        public, private = (bytes.fromhex(part) for part in args.key.split(":"))
        key = SigningKey.new(public, private, datetime.now(UTC))
        key.activate(datetime.now(UTC))
        self._signer = EdDSASigner(lambda: key)
        self._a: int = args.a_port
        self._b: int = args.b_port
        self._balancer = args.balancer
        self._sources = args.sources.split(",")
        self._deadline = args.deadline
        self._backoff_max = args.max_retry_after
        self._spread = args.spread
        self.phones = [Phone(i, self._sources[i % len(self._sources)])
                       for i in range(args.first, args.first + args.count)]
        self.failures: Counter[str] = Counter()
        self.failure_times: list[float] = []
        self.close_codes: Counter[int] = Counter()
        self._opened = 0
        self._back = 0
        self.all_open = asyncio.Event()
        self.all_back = asyncio.Event()
        self.first_close = asyncio.Event()

    def _token(self, phone: Phone) -> str:
        return self._signer.sign(claims(f"storm-{phone.index}"), "JWT")

    async def _handshake(self, port: int, phone: Phone) -> Answer:
        try:
            return await asyncio.wait_for(self._try(port, phone), HANDSHAKE_TIMEOUT)
        except TimeoutError:
            return Answer(0, "timeout")
        except (OSError, asyncio.IncompleteReadError) as exc:
            name = type(exc).__name__
            return Answer(0, "connection refused" if name == "ConnectionRefusedError" else name)

    async def _try(self, port: int, phone: Phone) -> Answer:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, local_addr=(phone.source, 0), limit=2**16)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /v1/realtime?token={self._token(phone)} HTTP/1.1\r\n"
                      f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head.split("\r\n")
            status = int(lines[0].split()[1])
            if status == 101:
                return Answer(101, reader=reader, writer=writer)
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            try:
                error = json.loads(body)["error"]
                why = f"{error['code']}: {error['message']}"
            except (ValueError, KeyError, TypeError):
                why = body[:40].decode("latin-1")
            retry = headers.get("retry-after")
            label = f"{status} {why}" + (f" (Retry-After {retry})" if retry else "")
            writer.close()
            return Answer(status, label, float(retry) if retry else 0.0)
        except BaseException:
            writer.close()
            raise

    async def _read_until_closed(self, answer: Answer) -> int:
        """Answers pings; returns the close code the server sent (1006: none)."""
        reader, writer = answer.reader, answer.writer
        assert reader is not None and writer is not None
        try:
            while True:
                b0, b1 = await reader.readexactly(2)
                length = b1 & 0x7F
                if length == 126:
                    length = int.from_bytes(await reader.readexactly(2), "big")
                elif length == 127:
                    length = int.from_bytes(await reader.readexactly(8), "big")
                payload = await reader.readexactly(length)
                opcode = b0 & 0x0F
                if opcode == 0x9:
                    writer.write(_masked(0xA, payload))
                elif opcode == 0x8:
                    code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                    with contextlib.suppress(OSError):
                        writer.write(_masked(0x8, payload[:2]))
                    return code
        except (OSError, asyncio.IncompleteReadError):
            return 1006
        finally:
            writer.close()

    def _backoff(self, attempt: int, retry_after: float) -> float:
        jitter = random.uniform(0, min(30.0, 0.5 * 2**attempt))
        if self._backoff_max:  # the formula documented before: Retry-After as a floor
            return max(retry_after, jitter)
        return retry_after + jitter

    def _target(self) -> int:
        if self._balancer == "random":  # a balancer that has not yet noticed A is gone
            return random.choice((self._a, self._b))
        return self._b

    async def run_phone(self, phone: Phone, opening: asyncio.Semaphore) -> None:
        async with opening:
            while True:
                answer = await self._handshake(self._a, phone)
                if answer.status == 101:
                    break
                await asyncio.sleep(0.5 + random.random())
        self._opened += 1
        if self._opened == len(self.phones):
            self.all_open.set()
        code = await self._read_until_closed(answer)
        phone.closed_at, phone.close_code = time.monotonic(), code
        self.first_close.set()
        self.close_codes[code] += 1
        if self._spread:  # as if A had closed its sockets evenly over `spread` seconds
            await asyncio.sleep(random.uniform(0, self._spread))
        attempt = 0
        delay = self._backoff(attempt, 0.0)
        attempt += 1
        while True:
            phone.waits.append(delay)
            await asyncio.sleep(delay)
            phone.attempts += 1
            answer = await self._handshake(self._target(), phone)
            if answer.status == 101:
                phone.back_at = time.monotonic()
                break
            self.failures[answer.failure] += 1
            self.failure_times.append(time.monotonic())
            delay = self._backoff(attempt, answer.retry_after)
            attempt += 1
        self._back += 1
        if self._back == len(self.phones):
            self.all_back.set()
        code = await self._read_until_closed(answer)  # held open until the process ends
        self.close_codes[-code] += 1  # negative: a close on B, after the phone came back

    def results(self) -> dict[str, object]:
        return {
            "closed_at": [p.closed_at for p in self.phones],
            "back_at": [p.back_at for p in self.phones],
            "attempts": [p.attempts for p in self.phones],
            "first_waits": [p.waits[0] if p.waits else None for p in self.phones],
            "failures": dict(self.failures),
            "failure_times": self.failure_times,
            "close_codes": {str(k): v for k, v in self.close_codes.items()},
        }


def _masked(opcode: int, payload: bytes) -> bytes:
    mask = secrets.token_bytes(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + body


async def main(args: argparse.Namespace) -> None:
    storm = Storm(args)
    opening = asyncio.Semaphore(OPEN_CONCURRENCY)
    tasks = [asyncio.create_task(storm.run_phone(p, opening)) for p in storm.phones]
    await storm.all_open.wait()
    print("ready", flush=True)
    await storm.first_close.wait()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(storm.all_back.wait(), args.deadline)
    with open(args.result, "w") as out:
        json.dump(storm.results(), out)
    print("done", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--a-port", type=int, required=True)
    parser.add_argument("--b-port", type=int, required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--sources", required=True, help="comma-separated 127.0.0.x")
    parser.add_argument("--key", required=True, help="public:private, raw Ed25519 in hex")
    parser.add_argument("--result", required=True)
    parser.add_argument("--deadline", type=float, default=300.0)
    parser.add_argument("--balancer", choices=("b", "random"), default="b")
    parser.add_argument("--max-retry-after", action="store_true")
    parser.add_argument("--spread", type=float, default=0.0)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvloop.run(main(parser.parse_args()))
