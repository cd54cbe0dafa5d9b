"""Revoking a signing key over the admin API closes every socket it authenticated, on two
gateway processes (`atelier serve gateway`) that share Redis with the APIs.

The mobile API (the origin: it signs the connection tokens and serves the JWKS) and the
admin API run with their own infrastructure each, as separate containers would; the
gateways only know the JWKS URL and Redis.
"""

import asyncio
import contextlib
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.integration.test_gateway_redis import gateway_process
from tests.support.admin import ADMIN, running_admin_stack
from tests.support.phone import API, bearer, new_guest

pytestmark = pytest.mark.redis

ISSUER = "https://atelier.test"
SOCKETS_PER_GATEWAY = 3
WITHIN_SECONDS = 2.0


async def wait_ready(address: str, timeout: float = 60.0) -> None:
    deadline, last = time.monotonic() + timeout, "no answer"
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get(f"http://{address}/readyz")
                if response.status_code == 200:
                    return
                last = response.text
            await asyncio.sleep(0.1)
    raise AssertionError(f"gateway at {address} never became ready: {last}")


async def connection_token(client: httpx.AsyncClient) -> str:
    guest = await new_guest(client)
    response = await client.post(f"{API}/realtime/token", headers=bearer(guest["tokens"]))
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def active_kid(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    response = await client.get(f"{ADMIN}/keys", headers=auth)
    assert response.status_code == 200, response.text
    keys: list[dict[str, Any]] = response.json()["keys"]
    return next(k["kid"] for k in keys if k["state"] == "active")


async def closed_within(ws: ClientConnection, deadline: float) -> int | None:
    """The close code, or None when the socket is still open at `deadline`."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ws.wait_closed(), max(0.0, deadline - time.monotonic()))
    return ws.close_code


async def test_revoking_a_key_over_the_admin_api_closes_its_sockets_on_every_gateway(
    tmp_path: Path, postgres_url: str, pg_engine: Any, redis_url: str,
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(4)}:"
    async with running_admin_stack(
        tmp_path / "data", postgres_url, redis_url=redis_url, realtime_bus_prefix=prefix,
        issuer=ISSUER, rate_limit_default_per_minute=10_000,
        rate_limit_guests_per_minute=10_000,
    ) as stack:
        auth = await stack.logged_in_admin()
        env = {
            "ATELIER_REDIS_URL": redis_url, "ATELIER_ISSUER": ISSUER,
            "ATELIER_JWKS_URL": f"{stack.base_url}/.well-known/jwks.json",
            "ATELIER_REALTIME_BUS_PREFIX": prefix, "ATELIER_DATA_DIR": str(tmp_path / "gw"),
            "ATELIER_LOG_LEVEL": "INFO",
        }
        with gateway_process(env, tmp_path) as first, gateway_process(env, tmp_path) as second:
            await asyncio.gather(wait_ready(first[0]), wait_ready(second[0]))
            kid = await active_kid(stack.client, auth)
            sockets = [
                await connect(f"ws://{address}/v1/realtime?token="
                              f"{await connection_token(stack.client)}")
                for address in (first[0], second[0]) for _ in range(SOCKETS_PER_GATEWAY)]
            try:
                started = time.monotonic()
                response = await stack.client.post(f"{ADMIN}/keys/{kid}/revoke", headers=auth)
                assert response.status_code == 200, response.text
                deadline = started + WITHIN_SECONDS
                codes = await asyncio.gather(*(closed_within(ws, deadline) for ws in sockets))
                assert codes == [1008] * len(sockets), codes
            finally:
                await asyncio.gather(*(ws.close() for ws in sockets))
