"""The leaked-key drill on real processes: two mobile API processes, an admin API and two
gateways (`atelier serve ...`) sharing PostgreSQL, Redis and the key file.

A phone's access token and connection token are signed by the key about to leak; the token
is used on both API nodes (so both have it cached) and holds a socket on both gateways.
Within 2 s of the admin API's revoke, and again of `atelier keys revoke`, on every node:
the key's tokens answer 401 (cached or never seen, and they cannot mint a transfer code),
its sockets close with 1008, its connection tokens are refused at the handshake, and no
JWKS lists it; tokens of the next key work. Disabling a user closes their sockets on both
gateways within the same 2 s.
"""

import asyncio
import base64
import contextlib
import json
import os
import secrets
import socket as sockets
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.support.phone import API, bearer, device_id
from tests.support.processes import ROOT, AtelierProcess, atelier

pytestmark = pytest.mark.redis

WITHIN = 2.0
ADMIN = "/v1/api/admin"
ADMIN_EMAIL, ADMIN_PASSWORD = "drill@atelier.test", "drill-password-1"


def free_port() -> int:
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def kid_of(token: str) -> str:
    head = token.split(".")[0]
    kid: str = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]
    return kid


async def run_cli(env: dict[str, str], log: Path, *args: str, stdin: bytes = b"") -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    environment.update({"AWS_EC2_METADATA_DISABLED": "true", **env})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli.main", *args, cwd=ROOT, env=environment,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(stdin), 60)
    text = output.decode(errors="replace")
    with log.open("a") as out:
        out.write(f"$ atelier {' '.join(args)}\n{text}\n")
    assert process.returncode == 0, text
    return text


async def wait_until_ready(url: str, process: AtelierProcess, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            assert process.alive, process.output()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became ready:\n{process.output()[-3000:]}")


@contextlib.asynccontextmanager
async def serve(
    kind: str, env: dict[str, str], log_dir: Path, ready: str, port: int | None = None
) -> AsyncIterator[str]:
    port = port or free_port()
    async with atelier("serve", kind, "--host", "127.0.0.1", "--port", str(port), env=env,
                       log=log_dir / f"{kind}-{port}.log") as process:
        base = f"http://127.0.0.1:{port}"
        await wait_until_ready(base + ready, process)
        yield base
        await process.terminate()


async def within(seconds: float, checks: dict[str, Callable[[], Awaitable[bool]]]
                 ) -> dict[str, float]:
    """Polls every check at once until each holds; how long each took (all <= seconds)."""
    start = time.monotonic()

    async def settle(check: Callable[[], Awaitable[bool]]) -> float:
        while not await check():
            if time.monotonic() - start > seconds:
                return float("inf")
            await asyncio.sleep(0.05)
        return time.monotonic() - start

    took = await asyncio.gather(*(settle(c) for c in checks.values()))
    return dict(zip(checks, took, strict=True))


async def handshake(url: str, token: str) -> int:
    try:
        async with connect(f"{url}?token={token}", open_timeout=10):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def closed_with_1008(ws: ClientConnection) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return ws.close_code == 1008
    return check


async def test_a_leaked_key_is_shut_out_of_every_node_within_two_seconds(
    postgres_url: str, pg_engine: AsyncEngine, redis_url: str, tmp_path: Path,
) -> None:
    env = {
        "ATELIER_DATABASE_URL": postgres_url, "ATELIER_REDIS_URL": redis_url,
        "ATELIER_REALTIME_BUS_PREFIX": f"atelier:drill:{secrets.token_hex(4)}:",
        "ATELIER_DATA_DIR": str(tmp_path / "data"), "ATELIER_LOG_LEVEL": "WARNING",
        "ATELIER_PASSWORD_HASH_MEMORY_KIB": "1024", "ATELIER_PASSWORD_HASH_TIME_COST": "1",
        "ATELIER_RATE_LIMIT_DEFAULT_PER_MINUTE": "100000", "PYTHONUNBUFFERED": "1",
    }
    cli_log = tmp_path / "cli.log"
    await asyncio.gather(
        run_cli(env, cli_log, "keys", "rotate"),  # one key file for every process
        run_cli(env, cli_log, "admin", "create", ADMIN_EMAIL, "--password-stdin",
                stdin=ADMIN_PASSWORD.encode() + b"\n"))
    first_port = free_port()
    # The gateways start beside the APIs: until the first one answers they retry its JWKS
    # (and are not ready).
    gateway_env = {**env,
                   "ATELIER_JWKS_URL": f"http://127.0.0.1:{first_port}/.well-known/jwks.json"}
    async with contextlib.AsyncExitStack() as stack:
        first_api, second_api, admin_api, *gateways = await asyncio.gather(
            stack.enter_async_context(serve("mobile-api", env, tmp_path, "/readyz", first_port)),
            stack.enter_async_context(serve("mobile-api", env, tmp_path, "/readyz")),
            stack.enter_async_context(serve("admin-api", env, tmp_path, f"{ADMIN}/healthz")),
            *(stack.enter_async_context(serve("gateway", gateway_env, tmp_path, "/readyz"))
              for _ in range(2)))
        realtime = [g.replace("http://", "ws://") + "/v1/realtime" for g in gateways]
        apis = [first_api, second_api]
        http = await stack.enter_async_context(httpx.AsyncClient(trust_env=False, timeout=30))

        async def new_phone(api: str) -> dict[str, Any]:
            response = await http.post(f"{api}{API}/guests", json={
                "device_id": device_id(), "platform": "ios"})
            assert response.status_code == 201, response.text
            body: dict[str, Any] = response.json()
            return body

        async def connection_token(api: str, phone: dict[str, Any]) -> str:
            response = await http.post(f"{api}{API}/realtime/token",
                                       headers=bearer(phone["tokens"]))
            assert response.status_code == 200, response.text
            token: str = response.json()["token"]
            return token

        async def admin_headers() -> dict[str, str]:
            response = await http.post(f"{admin_api}{ADMIN}/sessions", json={
                "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert response.status_code == 200, response.text
            return {"Authorization": f"Bearer {response.json()['token']}"}

        async def me(api: str, phone: dict[str, Any]) -> int:
            return (await http.get(f"{api}{API}/me", headers=bearer(phone["tokens"]))).status_code

        async def listed(api: str) -> set[str]:
            keys = (await http.get(f"{api}/.well-known/jwks.json")).json()["keys"]
            return {k["kid"] for k in keys}

        def leaked_key_shut_out(
            kid: str, used: dict[str, Any], unseen: dict[str, Any],
            open_sockets: list[ClientConnection], spare: str,
        ) -> dict[str, Callable[[], Awaitable[bool]]]:
            checks: dict[str, Callable[[], Awaitable[bool]]] = {}
            for n, api in enumerate(apis):
                checks[f"api{n}: cached token 401"] = lambda a=api: _is(me(a, used), 401)
                checks[f"api{n}: unseen token 401"] = lambda a=api: _is(me(a, unseen), 401)
                checks[f"api{n}: no transfer code"] = lambda a=api: _is(_status(http.post(
                    f"{a}{API}/transfer-codes", headers=bearer(used["tokens"]))), 401)
                checks[f"api{n}: jwks drops it"] = lambda a=api: _without(listed(a), kid)
            for n, ws in enumerate(open_sockets):
                checks[f"socket{n}: closed 1008"] = closed_with_1008(ws)
            for n, url in enumerate(realtime):
                checks[f"gateway{n}: handshake refused"] = lambda u=url: _is(
                    handshake(u, spare), 403)
            return checks

        # --- the phone whose tokens the leaked key signed, seen by every node
        leaked_phone, unseen_phone = await new_phone(first_api), await new_phone(second_api)
        leaked_kid = kid_of(leaked_phone["tokens"]["access_token"])
        for api in apis:
            assert await me(api, leaked_phone) == 200
        realtime_token = await connection_token(second_api, leaked_phone)
        spare_token = await connection_token(first_api, leaked_phone)
        open_sockets = [await connect(f"{url}?token={realtime_token}") for url in realtime]
        assert kid_of(realtime_token) == leaked_kid
        for api in apis:
            assert leaked_kid in await listed(api)

        # --- the admin API's revoke
        headers = await admin_headers()
        revoked = await http.post(f"{admin_api}{ADMIN}/keys/{leaked_kid}/revoke",
                                  headers=headers)
        assert revoked.status_code == 200, revoked.text
        took = await within(WITHIN, leaked_key_shut_out(
            leaked_kid, leaked_phone, unseen_phone, open_sockets, spare_token))
        print("admin revoke ->", {k: round(v, 3) for k, v in took.items()})
        assert max(took.values()) <= WITHIN, took

        # --- the next key signs on every node as soon as it has read it; until then a node
        # asked to sign answers a retryable 503, never a 500; the new key's tokens work
        def signs_again(api: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                response = await http.post(f"{api}{API}/guests", json={
                    "device_id": device_id(), "platform": "ios"})
                assert response.status_code in (201, 503), response.text
                if response.status_code == 503:
                    assert response.json()["error"]["code"] == "unavailable"
                    assert int(response.headers["Retry-After"]) > 0
                return response.status_code == 201

            return check

        took = await within(WITHIN, {f"api{index}: signs with the next key": signs_again(api)
                                     for index, api in enumerate(apis)})
        print("signing resumed ->", {k: round(v, 3) for k, v in took.items()})
        assert max(took.values()) <= WITHIN, took
        phone = await new_phone(second_api)
        next_kid = kid_of(phone["tokens"]["access_token"])
        assert next_kid != leaked_kid
        for api in apis:
            assert await me(api, phone) == 200
        next_token = await connection_token(first_api, phone)
        phone_sockets = [await connect(f"{url}?token={next_token}") for url in realtime]

        # --- disabling the user closes their sockets on both gateways
        headers = await admin_headers()
        disabled = await http.post(f"{admin_api}{ADMIN}/users/{phone['user']['id']}/disable",
                                   headers=headers)
        assert disabled.status_code == 200, disabled.text
        took = await within(WITHIN, {f"socket{n}: closed 1008": closed_with_1008(ws)
                                     for n, ws in enumerate(phone_sockets)})
        print("disable user ->", {k: round(v, 3) for k, v in took.items()})
        assert max(took.values()) <= WITHIN, took

        # --- `atelier keys revoke` from an operator's shell, on the key now signing
        second_phone, second_unseen = await new_phone(first_api), await new_phone(second_api)
        for api in apis:
            assert await me(api, second_phone) == 200
        second_realtime = await connection_token(first_api, second_phone)
        second_spare = await connection_token(second_api, second_phone)
        second_sockets = [await connect(f"{url}?token={second_realtime}") for url in realtime]
        await run_cli(env, cli_log, "keys", "revoke", next_kid)
        took = await within(WITHIN, leaked_key_shut_out(
            next_kid, second_phone, second_unseen, second_sockets, second_spare))
        print("atelier keys revoke ->", {k: round(v, 3) for k, v in took.items()})
        assert max(took.values()) <= WITHIN, took


async def _status(response: Awaitable[httpx.Response]) -> int:
    return (await response).status_code


async def _is(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _without(kids: Awaitable[set[str]], kid: str) -> bool:
    return kid not in await kids
