"""The console's overview counts the open sockets of the gateway: `atelier dev` (the gateway
mounted beside the console, counted in memory) and two gateway processes on real Redis."""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from entrypoints.console.container import ConsoleContainer
from entrypoints.dev.app import create_dev_app
from entrypoints.wiring.infrastructure import Infrastructure
from tests.support.console import ConsoleStack, console_settings, running_console_stack
from tests.support.phone import API, bearer, new_guest
from tests.support.server import serving

SOCKETS = re.compile(r"<dt>Connected sockets</dt><dd>(.*?)</dd>")


@pytest.fixture
async def dev(tmp_path: Path, database_url: str) -> AsyncIterator[ConsoleStack]:
    settings = console_settings(tmp_path / "data", database_url,
                                gateway_census_interval_seconds=0.2)
    shared = Infrastructure(settings=settings)
    async with (
        serving(create_dev_app(settings, shared)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        stack = ConsoleStack(base_url, client, settings, shared,
                             ConsoleContainer(infrastructure=shared))
        await stack.create_admin()
        await stack.signed_in()
        yield stack


async def connected_sockets(client: httpx.AsyncClient) -> str:
    page = await client.get("/")
    assert page.status_code == 200, page.text
    found = SOCKETS.search(page.text)
    assert found, page.text
    return re.sub(r"<[^>]+>", "", found.group(1))


async def shows(client: httpx.AsyncClient, expected: str, timeout: float = 10.0) -> str:
    """What the overview says once it says `expected` (or at the timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = await connected_sockets(client)
        if seen == expected or asyncio.get_running_loop().time() > deadline:
            return seen
        await asyncio.sleep(0.1)


async def test_the_overview_counts_the_sockets_open_on_the_gateway(dev: ConsoleStack) -> None:
    assert await shows(dev.client, "0 on 1 gateway node") == "0 on 1 gateway node"
    ws_url = dev.base_url.replace("http://", "ws://") + "/v1/realtime"
    async with contextlib.AsyncExitStack() as sockets:
        for _ in range(3):
            guest = await new_guest(dev.client)
            token = (await dev.client.post(f"{API}/realtime/token",
                                           headers=bearer(guest["tokens"]))).json()["token"]
            await sockets.enter_async_context(connect(f"{ws_url}?token={token}",
                                                      open_timeout=10))
        assert await shows(dev.client, "3 on 1 gateway node") == "3 on 1 gateway node"
    assert await shows(dev.client, "0 on 1 gateway node") == "0 on 1 gateway node"


async def test_a_console_that_cannot_see_the_gateways_says_unknown(
    tmp_path: Path, database_url: str,
) -> None:
    async with running_console_stack(tmp_path / "data", database_url) as stack:
        await stack.create_admin()
        await stack.signed_in()
        assert await connected_sockets(stack.client) == "unknown"
