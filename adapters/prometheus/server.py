"""A tiny HTTP server for scrapers: `GET /metrics` on a port of its own, nothing else.

It runs on the process's event loop (the samplers read the database and the queue), apart
from the public app, so no public route can ever reach the metrics."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger("atelier.metrics")

READ_TIMEOUT = 5.0
MAX_HEADER_LINES = 100


async def _answer(render: Callable[[], Awaitable[bytes]], reader: asyncio.StreamReader,
                  writer: asyncio.StreamWriter) -> None:
    try:
        async with asyncio.timeout(READ_TIMEOUT):
            request = await reader.readline()
            for _ in range(MAX_HEADER_LINES):
                if (await reader.readline()).strip() == b"":
                    break
        method, target = [*request.split(), b"", b""][:2]
        if method in (b"GET", b"HEAD") and target.split(b"?")[0] == b"/metrics":
            status, content_type, body = "200 OK", CONTENT_TYPE_LATEST, await render()
        else:
            status, content_type, body = "404 Not Found", "text/plain", b"not found\n"
        head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        writer.write(head if method == b"HEAD" else head + body)
        await writer.drain()
    except (TimeoutError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def serving_metrics(
    render: Callable[[], Awaitable[bytes]], host: str, port: int
) -> AsyncIterator[int | None]:
    """Serves `render()` at `http://host:port/metrics` for the block; yields the bound port.
    A port already taken is logged and skipped (yields None): metrics never stop a service."""
    try:
        server = await asyncio.start_server(
            lambda r, w: _answer(render, r, w), host, port, reuse_address=True)
    except OSError as exc:
        log.error("metrics not served: %s:%d is not available (%s)", host, port, exc.strerror)
        yield None
        return
    bound = server.sockets[0].getsockname()[1]
    log.info("metrics at http://%s:%d/metrics", host, bound)
    try:
        yield bound
    finally:
        server.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                await server.wait_closed()
