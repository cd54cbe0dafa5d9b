"""Zero-downtime key rotation, end to end over real sockets.

The real mobile API issues connection tokens (POST /v1/api/realtime/token) and serves its
JWKS; the real gateway fetches that JWKS over HTTP. While phones keep connecting with fresh
tokens, the RotateKeys use case stages, activates and retires keys on shortened timings:
not one handshake fails. Then a revocation closes the key's sockets and refuses its tokens.
"""

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from adapters.memory.bus import InMemoryRealtimeBus
from adapters.sql.migrate import upgrade_database
from application.keys.manage_keys import RevokeKey, RotateKeys
from domain.keys.model import KeyState
from domain.shared.clock import utcnow
from entrypoints.wiring.di import resolve
from tests.support.gateway import gateway_settings, handshake, next_frame, running_gateway
from tests.support.phone import API, bearer, device_id, new_guest, refresh
from tests.support.stack import Stack, running_stack

FAST_KEYS: dict[str, Any] = {
    "jwks_max_age_seconds": 1, "key_margin_seconds": 1, "key_rotate_every_days": 3 / 86400,
    "access_token_ttl_seconds": 2, "connection_token_ttl_seconds": 2,
    "token_leeway_seconds": 1, "key_refresh_seconds": 0.2,
    "rate_limit_default_per_minute": 100_000, "rate_limit_guests_per_minute": 1000,
}


def kid_of(token: str) -> str:
    head = token.split(".")[0]
    kid: str = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]
    return kid


async def connection_token(stack: Stack, phone: dict[str, Any]) -> tuple[str, str]:
    """What the app does: ask for a connection token, refreshing its session when the
    (here 2-second) access token has expired."""
    response = await stack.client.post(f"{API}/realtime/token", headers=bearer(phone["tokens"]))
    if response.status_code == 401:
        renewed = await refresh(stack.client, phone["tokens"]["refresh_token"], phone["device"])
        assert renewed.status_code == 200, renewed.text
        phone["tokens"] = renewed.json()["tokens"]
        response = await stack.client.post(
            f"{API}/realtime/token", headers=bearer(phone["tokens"]))
    assert response.status_code == 200, response.text
    body = response.json()
    return body["token"], body["url"]


async def test_rotation_drops_no_handshake_and_revocation_closes_the_key_s_sockets(
    tmp_path: Path,
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(database)
    bus = InMemoryRealtimeBus()
    async with running_stack(tmp_path / "data", database, **FAST_KEYS) as stack:
        settings = gateway_settings(
            f"{stack.base_url}/.well-known/jwks.json", issuer=stack.settings.issuer,
            jwks_max_age_seconds=1, gateway_token_leeway_seconds=2)
        async with running_gateway(settings, bus) as (gateway_url, gateway_container):
            rotate: RotateKeys = await resolve(stack.infrastructure.rotate_keys)
            store = await resolve(stack.infrastructure.key_store)
            phones = []
            for _ in range(3):
                device = device_id()
                phones.append({**await new_guest(stack.client, device), "device": device})

            moves: list[str] = []
            outcomes: list[tuple[str, int]] = []
            stop = asyncio.Event()

            async def rotate_on_schedule() -> None:
                while not stop.is_set():
                    moves.extend(await rotate())
                    await asyncio.sleep(0.25)

            async def keep_connecting(phone: dict[str, Any]) -> None:
                user_id = phone["user"]["id"]
                while not stop.is_set():
                    token, _ = await connection_token(stack, phone)
                    try:
                        async with connect(f"{gateway_url}?token={token}", open_timeout=10) as ws:
                            await bus.publish(f"user:{user_id}", {"ping": token[-8:]})
                            frame = await next_frame(ws)
                            assert frame["data"] == {"ping": token[-8:]}
                            outcomes.append((kid_of(token), 101))
                    except Exception as exc:
                        status = getattr(getattr(exc, "response", None), "status_code", -1)
                        outcomes.append((kid_of(token), status))
                    await asyncio.sleep(0.05)

            driver = asyncio.create_task(rotate_on_schedule())
            clients = [asyncio.create_task(keep_connecting(p)) for p in phones]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(m.startswith("retired") for m in moves):
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(driver, *clients)

            failures = [o for o in outcomes if o[1] != 101]
            signing_kids = {kid for kid, _ in outcomes}
            assert failures == [], failures
            assert any(m.startswith("retired") for m in moves), moves
            assert any(m.startswith("activated") for m in moves[1:]), moves
            assert len(signing_kids) >= 2, signing_kids
            assert len(outcomes) > 30

            # --- revocation: the active key's sockets close, its tokens are refused
            phone = phones[0]
            token, _ = await connection_token(stack, phone)
            doomed_kid = kid_of(token)
            spare, _ = await connection_token(stack, phone)
            sockets = [await connect(f"{gateway_url}?token={token}") for _ in range(3)]
            await RevokeKey(store, utcnow, bus)(doomed_kid)

            for ws in sockets:
                await asyncio.wait_for(ws.wait_closed(), 5)
                assert ws.close_code == 1008
            assert await handshake(gateway_url, spare) == 403
            assert await handshake(gateway_url, token) == 403

            await rotate()  # the staged key takes over signing
            await asyncio.sleep(0.5)  # the origin's keyring refresh
            ring = await store.load()
            assert ring.get(doomed_kid).state is KeyState.REVOKED
            fresh, _ = await connection_token(stack, phone)
            assert kid_of(fresh) != doomed_kid
            assert await handshake(gateway_url, fresh) == 101
            async with httpx.AsyncClient(base_url=stack.base_url) as client:
                published = (await client.get("/.well-known/jwks.json")).json()["keys"]
            assert doomed_kid not in {k["kid"] for k in published}
            gateway = await resolve(gateway_container.gateway)
            assert gateway.connections == 0
