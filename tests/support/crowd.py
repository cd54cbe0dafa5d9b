"""Many clients at once, each on its own connection from its own loopback address (the
server sees 127.0.0.x), so a race is raced for real and per-IP rate limits do not hide it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

FIRST_HOST = 10


def address(n: int) -> str:
    """The n-th attacker's loopback address (127.0.0.10 upwards)."""
    return f"127.0.0.{FIRST_HOST + n}"


@contextlib.asynccontextmanager
async def crowd(
    base_url: str, size: int, *, from_address: str | None = None, warm_path: str = "/healthz"
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`size` clients, each from its own address (or all from `from_address`, still on
    separate connections), connected before the burst so the requests leave together."""
    if size > 240:
        raise ValueError("one loopback address per client: at most 240")
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(
                base_url=base_url, timeout=60,
                transport=httpx.AsyncHTTPTransport(local_address=from_address or address(n)),
            ))
            for n in range(size)
        ]
        await asyncio.gather(*(client.get(warm_path) for client in clients))
        yield clients


async def at_once(
    clients: list[httpx.AsyncClient],
    send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
) -> list[httpx.Response]:
    """One request per client, all in flight together; answers in client order."""
    return list(await asyncio.gather(*(send(client, n) for n, client in enumerate(clients))))


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(response.status_code for response in responses)
