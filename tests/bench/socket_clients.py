"""One client process of the socket bench: opens its share of the bench's sockets and holds
them open and idle until told to close (one process cannot hold 18,000: the machine allows
20,000 descriptors per process, and the bench's own Redis and HTTP clients need some).

Driven over stdin/stdout, one line per command, by `tests.bench.bench_gateway_sockets`:

- the first stdin line is a JSON object `{"url", "tokens", "sources"}`; the process opens one
  socket per token (`?token=` appended when the token is not empty), spreading them over
  the `sources` addresses (127.0.0.x) so that no address holds more than its share, then
  prints `open <n> <handshakes refused with 503 and retried>`;
- `recv`: arms one receive per socket, prints `armed`, then `got` once every socket has
  received one message (the fan-out measurement);
- `close` or end of input: closes every socket and exits.
"""

import asyncio
import json
import resource
import sys

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

OPENING = 100  # handshakes in flight per process
RETRIES = 5  # a 503 (the node busy) is retried after its Retry-After, as a client would


async def open_all(
    url: str, tokens: list[str], sources: list[str]
) -> tuple[list[ClientConnection], int]:
    gate = asyncio.Semaphore(OPENING)
    retried = 0

    async def one(index: int, token: str) -> ClientConnection:
        nonlocal retried
        target = f"{url}?token={token}" if token else url
        for attempt in range(RETRIES + 1):
            try:
                async with gate:
                    return await connect(target, compression=None, open_timeout=120,
                                         ping_interval=None, max_size=2**16, close_timeout=2,
                                         local_addr=(sources[index % len(sources)], 0))
            except InvalidStatus as refused:
                if refused.response.status_code != 503 or attempt == RETRIES:
                    raise
                retried += 1
                await asyncio.sleep(float(refused.response.headers.get("retry-after", 1)))
        raise AssertionError("unreachable")

    sockets = list(await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens))))
    return sockets, retried


async def main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)  # the first line carries every token
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    spec = json.loads(await reader.readline())
    sockets, retried = await open_all(spec["url"], spec["tokens"], spec["sources"])
    print(f"open {len(sockets)} {retried}", flush=True)
    while True:
        command = (await reader.readline()).decode().strip()
        if command == "recv":
            receivers = [asyncio.ensure_future(ws.recv()) for ws in sockets]
            await asyncio.sleep(0)
            print("armed", flush=True)
            await asyncio.gather(*receivers)
            print("got", flush=True)
            continue
        break
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
