"""This node's share of the socket census: its open-socket count, reported every few
seconds while it serves, withdrawn when it stops."""

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from application.ports.census import SocketCensus
from entrypoints.edge_gateway.gateway import STEP_TIMEOUT, bounded

log = logging.getLogger(__name__)


def node_name() -> str:
    """Unique per process: two gateways on one host (or a restarted one) never share a row."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@asynccontextmanager
async def reporting_sockets(
    census: SocketCensus | None, node: str, count: Callable[[], int], interval: float
) -> AsyncIterator[None]:
    if census is None:
        yield
        return

    async def beat() -> None:
        while True:
            try:
                await census.report(node, count())
            except Exception:  # Redis away: the census only misses this beat
                log.warning("socket census report failed", exc_info=True)
            await asyncio.sleep(interval)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        await bounded("census: stop reporting", asyncio.wait({task}), STEP_TIMEOUT)
        await bounded("census: leave", census.leave(node), STEP_TIMEOUT)
