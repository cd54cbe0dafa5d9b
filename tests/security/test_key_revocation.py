"""A leaked signing key, and sessions that end: what stops working, and how fast.

The mobile API on SQLite with its own bus; where sockets matter, the real gateway shares
that bus and fetches the API's JWKS over HTTP, as `atelier dev` runs them.
"""

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from adapters.crypto.eddsa import EdDSASigner
from adapters.memory.bus import InMemoryRealtimeBus
from adapters.sql.migrate import upgrade_database
from application.keys.manage_keys import RevokeKey, RotateKeys
from application.ports.messaging import RealtimeBus
from domain.shared.clock import utcnow
from entrypoints.wiring.di import resolve
from tests.support.gateway import (
    CountingOrigin,
    claims,
    gateway_settings,
    new_key,
    running_gateway,
    sign,
)
from tests.support.phone import API, bearer, device_id, new_guest
from tests.support.server import serving
from tests.support.stack import Stack, running_stack

WITHIN = 2.0  # seconds: the revocation promise


def kid_of(token: str) -> str:
    head = token.split(".")[0]
    kid: str = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]
    return kid


def claims_of(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


async def eventually(check: Any, within: float = WITHIN) -> float:
    """Polls the async `check` until it is true; returns how long that took."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > within:
            raise AssertionError(f"still not true after {within} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    async with running_stack(tmp_path / "data", url, rate_limit_guests_per_minute=1000,
                             rate_limit_default_per_minute=100_000) as running:
        yield running


@asynccontextmanager
async def gateway_beside(stack: Stack, **overrides: Any) -> AsyncIterator[str]:
    bus = await resolve(stack.infrastructure.bus)
    settings = gateway_settings(f"{stack.base_url}/.well-known/jwks.json",
                                issuer=stack.settings.issuer, **overrides)
    async with running_gateway(settings, bus) as (url, _):
        yield url


async def connection_token(stack: Stack, tokens: dict[str, Any]) -> str:
    response = await stack.client.post(f"{API}/realtime/token", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def closed_with(ws: ClientConnection, within: float = WITHIN) -> int | None:
    await asyncio.wait_for(ws.wait_closed(), within)
    return ws.close_code


async def test_a_revoked_key_s_tokens_fail_at_once_even_those_already_cached(
    stack: Stack,
) -> None:
    used = await new_guest(stack.client)
    unused = await new_guest(stack.client)
    for _ in range(2):  # the second answer comes from the claims cache
        me = await stack.client.get(f"{API}/me", headers=bearer(used["tokens"]))
        assert me.status_code == 200
    kid = kid_of(used["tokens"]["access_token"])
    bus: RealtimeBus = await resolve(stack.infrastructure.bus)
    store = await resolve(stack.infrastructure.key_store)

    # Another node (the admin API, the CLI) revokes the key and tells the bus.
    await RevokeKey(store, utcnow, bus)(kid)

    async def refused() -> bool:
        answers = [await stack.client.get(f"{API}/me", headers=bearer(t["tokens"]))
                   for t in (used, unused)]
        return all(a.status_code == 401 for a in answers)

    async def unlisted() -> bool:
        keys = (await stack.client.get("/.well-known/jwks.json")).json()["keys"]
        return kid not in {k["kid"] for k in keys}

    await eventually(refused)
    await eventually(unlisted)
    # The transfer-code escalation: a leaked-key token cannot mint a code either.
    minted = await stack.client.post(f"{API}/transfer-codes", headers=bearer(used["tokens"]))
    assert minted.status_code == 401

    # Signing goes on with the next key as soon as it is activated.
    rotate: RotateKeys = await resolve(stack.infrastructure.rotate_keys)
    await rotate()

    async def signs_again() -> bool:
        response = await stack.client.post(f"{API}/guests", json={
            "device_id": device_id(), "platform": "ios"})
        return response.status_code == 201

    await eventually(signs_again)
    fresh = await new_guest(stack.client)
    assert kid_of(fresh["tokens"]["access_token"]) != kid
    assert (await stack.client.get(f"{API}/me", headers=bearer(fresh["tokens"]))).status_code == 200


async def test_a_token_minted_for_a_thousand_years_is_refused(stack: Stack) -> None:
    guest = await new_guest(stack.client)
    genuine = guest["tokens"]["access_token"]
    store = await resolve(stack.infrastructure.key_store)
    key = next(k for k in (await store.load()).keys if k.kid == kid_of(genuine))
    forever = {**claims_of(genuine), "exp": 32503680000}  # the year 3000
    forged = EdDSASigner(lambda: key).sign(forever, "at+jwt")

    answer = await stack.client.get(f"{API}/me", headers={"Authorization": f"Bearer {forged}"})

    assert answer.status_code == 401
    assert (await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))).status_code == 200


async def test_connection_tokens_longer_lived_than_their_ttl_are_refused(stack: Stack) -> None:
    guest = await new_guest(stack.client)
    genuine = await connection_token(stack, guest["tokens"])
    store = await resolve(stack.infrastructure.key_store)
    key = next(k for k in (await store.load()).keys if k.kid == kid_of(genuine))
    forged = EdDSASigner(lambda: key).sign({**claims_of(genuine), "exp": 32503680000}, "JWT")
    async with gateway_beside(stack) as url:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{url}?token={forged}", open_timeout=10):
                pass
        assert refused.value.response.status_code == 403
        async with connect(f"{url}?token={genuine}", open_timeout=10):
            pass


async def test_transfer_and_logout_close_the_old_devices_sockets(stack: Stack) -> None:
    old_phone, new_phone = device_id(), device_id()
    guest = await new_guest(stack.client, old_phone)
    other = await new_guest(stack.client)
    async with gateway_beside(stack) as url:
        old_socket = await connect(f"{url}?token={await connection_token(stack, guest['tokens'])}")
        bystander = await connect(f"{url}?token={await connection_token(stack, other['tokens'])}")
        code = (await stack.client.post(
            f"{API}/transfer-codes", headers=bearer(guest["tokens"]))).json()["code"]

        redeemed = await stack.client.post(f"{API}/transfer-codes/redeem", json={
            "code": code, "device_id": new_phone, "platform": "android"})

        assert redeemed.status_code == 200, redeemed.text
        assert await closed_with(old_socket) == 1008
        new_tokens = redeemed.json()["tokens"]
        new_socket = await connect(f"{url}?token={await connection_token(stack, new_tokens)}")
        logout = await stack.client.delete(f"{API}/sessions/current", headers=bearer(new_tokens))
        assert logout.status_code == 204
        assert await closed_with(new_socket) == 1008
        # Someone else's socket is untouched.
        await bystander.ping()
        assert bystander.close_code is None
        await bystander.close()


async def test_revoking_a_device_closes_only_that_device_s_sockets(stack: Stack) -> None:
    async with gateway_beside(stack) as url:
        bus: RealtimeBus = await resolve(stack.infrastructure.bus)
        guest = await new_guest(stack.client)
        user_id = guest["user"]["id"]
        socket = await connect(f"{url}?token={await connection_token(stack, guest['tokens'])}")
        # Another device's notice (as RevokeDevice and the admin's revoke publish it).
        await bus.publish("internal:auth", {
            "type": "user.sessions_ended", "user_id": user_id, "device_id": "IDFV-OTHER"})
        await asyncio.sleep(0.3)
        await socket.ping()
        assert socket.close_code is None
        await bus.publish("internal:auth", {"type": "user.sessions_ended", "user_id": user_id})
        assert await closed_with(socket) == 1008


async def test_one_connection_token_opens_at_most_five_sockets_even_all_at_once(
    stack: Stack,
) -> None:
    guest = await new_guest(stack.client)
    token = await connection_token(stack, guest["tokens"])
    async with gateway_beside(stack) as url:
        outcomes = await asyncio.gather(*(open_socket(url, token) for _ in range(20)))
        opened = [o for o in outcomes if isinstance(o, ClientConnection)]
        assert len(opened) == 5, outcomes
        assert sorted({o for o in outcomes if isinstance(o, int)}) == [429]
        await opened[0].close()
        await asyncio.sleep(0.2)
        again = await open_socket(url, token)  # a closed socket frees its place
        assert isinstance(again, ClientConnection)
        for ws in [*opened[1:], again]:
            await ws.close()


async def test_one_address_opens_at_most_the_per_ip_cap_even_all_at_once(stack: Stack) -> None:
    phones = [await new_guest(stack.client) for _ in range(20)]
    tokens = [await connection_token(stack, p["tokens"]) for p in phones]
    async with gateway_beside(stack, gateway_max_sockets_per_ip=5) as url:
        outcomes = await asyncio.gather(
            *(open_socket(url, t, "127.0.0.7") for t in tokens))
        opened = [o for o in outcomes if isinstance(o, ClientConnection)]
        assert len(opened) == 5, outcomes
        assert sorted({o for o in outcomes if isinstance(o, int)}) == [429]
        elsewhere = await open_socket(url, tokens[-1], "127.0.0.8")
        assert isinstance(elsewhere, ClientConnection)
        for ws in [*opened, elsewhere]:
            await ws.close()


async def open_socket(url: str, token: str, address: str = "127.0.0.1") -> ClientConnection | int:
    try:
        return await connect(f"{url}?token={token}", open_timeout=10,
                             local_addr=(address, 0))
    except InvalidStatus as exc:
        return exc.response.status_code


async def test_a_gateway_started_before_its_origin_says_not_ready_then_admits_quickly(
    stack: Stack, tmp_path: Path,
) -> None:
    """`atelier dev`: the gateway's first JWKS fetch runs before the server listens."""
    guest = await new_guest(stack.client)
    token = await connection_token(stack, guest["tokens"])
    hold = asyncio.Event()
    forward = HoldingProxy(stack.base_url, hold)
    async with forward.running() as origin_url:
        settings = gateway_settings(f"{origin_url}/.well-known/jwks.json",
                                    issuer=stack.settings.issuer,
                                    jwks_refetch_cooldown_seconds=30)
        async with running_gateway(settings) as (url, _):
            with pytest.raises(InvalidStatus) as not_yet:
                async with connect(f"{url}?token={token}", open_timeout=10):
                    pass
            assert not_yet.value.response.status_code == 503
            assert not_yet.value.response.headers["Retry-After"] == "1"
            health = url.replace("ws://", "http://").removesuffix("/v1/realtime") + "/readyz"
            async with httpx.AsyncClient() as client:
                assert (await client.get(health)).status_code == 503
                hold.set()  # the origin answers from now on
                started = time.monotonic()
                async with connect(f"{url}?token={token}", open_timeout=10):
                    admitted_after = time.monotonic() - started
                assert (await client.get(health)).status_code == 200
    assert admitted_after < 1.5


class HoldingProxy:
    """Answers 503 for the JWKS until `hold` is set, then forwards to `target` (the origin
    listening late, as seen from the gateway)."""

    def __init__(self, target: str, hold: asyncio.Event) -> None:
        self._target, self._hold = target, hold

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if not self._hold.is_set():
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        async with httpx.AsyncClient(base_url=self._target) as client:
            response = await client.get(scope["path"])
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()
                                if k.lower() in ("content-type", "cache-control")]})
        await send({"type": "http.response.body", "body": response.content})

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        async with serving(self) as url:
            yield url


async def test_a_gateway_that_missed_the_message_closes_the_key_s_sockets_once_the_jwks_drops_it(
) -> None:
    leaked, kept = new_key(), new_key()
    origin = CountingOrigin(keys=[leaked, kept], max_age=1)
    async with serving(origin) as origin_url:
        settings = gateway_settings(f"{origin_url}/.well-known/jwks.json",
                                    gateway_max_connection_age_seconds=10)
        async with running_gateway(settings) as (url, _):
            doomed = await connect(f"{url}?token={sign(leaked, claims('alice'))}")
            spared = await connect(f"{url}?token={sign(kept, claims('bob'))}")
            origin.keys = [kept]  # revoked at the origin; no bus message reached this node

            assert await closed_with(doomed, within=5.0) == 1008
            assert doomed.close_reason == "key revoked"
            await spared.ping()
            assert spared.close_code is None
            await spared.close()


class FlakyBus(InMemoryRealtimeBus):
    """The in-memory bus with a subscription that can be down (messages then lost)."""

    up = True

    @property
    def healthy(self) -> bool:
        return self.up


async def test_a_gateway_refetches_the_jwks_when_its_bus_subscription_comes_back() -> None:
    leaked, kept = new_key(), new_key()
    origin = CountingOrigin(keys=[leaked, kept], max_age=3600)
    bus = FlakyBus()
    async with serving(origin) as origin_url:
        settings = gateway_settings(f"{origin_url}/.well-known/jwks.json",
                                    gateway_max_connection_age_seconds=10)
        async with running_gateway(settings, bus) as (url, _):
            doomed = await connect(f"{url}?token={sign(leaked, claims('alice'))}")
            bus.up = False
            await asyncio.sleep(1.5)  # the gateway's sweep sees the subscription down
            origin.keys = [kept]  # the revocation, published while this node was deaf
            bus.up = True

            assert await closed_with(doomed, within=5.0) == 1008


async def test_a_replayed_refresh_token_ends_the_family_and_closes_that_device_s_sockets(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    async with running_stack(tmp_path / "data", url, reuse_interval_seconds=0.2) as replaying:
        phone = device_id()
        guest = await new_guest(replaying.client, phone)
        async with gateway_beside(replaying) as gateway:
            socket = await connect(
                f"{gateway}?token={await connection_token(replaying, guest['tokens'])}")
            stolen = guest["tokens"]["refresh_token"]
            rotated = await replaying.client.post(f"{API}/sessions/refresh", json={
                "refresh_token": stolen, "device_id": phone})
            assert rotated.status_code == 200, rotated.text
            await asyncio.sleep(0.3)  # past the reuse interval: a replay, not a race

            replay = await replaying.client.post(f"{API}/sessions/refresh", json={
                "refresh_token": stolen, "device_id": phone})

            assert replay.status_code == 401
            assert await closed_with(socket) == 1008
