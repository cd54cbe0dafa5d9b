"""The edge gateway over real sockets: a counting JWKS origin, token minting, handshakes."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dependency_injector import providers
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from adapters.crypto.eddsa import EdDSASigner, generate_ed25519
from domain.keys.model import SigningKey
from entrypoints.edge_gateway.app import create_app
from entrypoints.edge_gateway.container import GatewayContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from tests.support.server import serving

ISSUER = "https://auth.atelier.test"


def new_key() -> SigningKey:
    public, private = generate_ed25519()
    key = SigningKey.new(public, private, datetime.now(UTC))
    key.activate(datetime.now(UTC))
    return key


def sign(key: SigningKey, claims: dict[str, Any], typ: str = "JWT") -> str:
    return EdDSASigner(lambda: key).sign(claims, typ)


def claims(sub: str = "user-1", **overrides: Any) -> dict[str, Any]:
    import secrets
    import time

    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER, "sub": sub, "aud": "realtime", "iat": now, "exp": now + 60,
        "jti": secrets.token_urlsafe(8), "channels": [f"user:{sub}", "broadcast"]}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class CountingOrigin:
    """ASGI app: serves a JWKS (or whatever `body` says) and counts every request."""

    keys: list[SigningKey] = field(default_factory=list)
    max_age: int = 300
    status: int = 200
    body: bytes | None = None
    requests: list[str] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["type"] != "http":
            return
        self.requests.append(scope["path"])
        body = self.body if self.body is not None else json.dumps(
            {"keys": [k.jwk() for k in self.keys]}).encode()
        await send({"type": "http.response.start", "status": self.status, "headers": [
            (b"content-type", b"application/json"),
            (b"cache-control", f"public, max-age={self.max_age}".encode())]})
        await send({"type": "http.response.body", "body": body})


def gateway_settings(jwks_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "issuer": ISSUER, "jwks_url": jwks_url, "redis_url": None,
        "gateway_handshakes_per_second": 10_000, "gateway_handshake_burst": 10_000,
        "gateway_token_leeway_seconds": 5, **overrides}
    return Settings.model_validate(values)


@asynccontextmanager
async def running_gateway(
    settings: Settings, bus: Any = None
) -> AsyncIterator[tuple[str, GatewayContainer]]:
    """The gateway app under uvicorn (wsproto); yields its ws:// URL and its container."""
    infrastructure = Infrastructure(settings=settings)
    if bus is not None:
        infrastructure.bus.override(providers.Object(bus))
    container = GatewayContainer(infrastructure=infrastructure)
    async with serving(create_app(container), ws="wsproto") as base_url:
        yield base_url.replace("http://", "ws://") + "/v1/realtime", container


async def handshake(url: str, token: str | None = None, query: str | None = None) -> int:
    """101 when the socket opened (then closed again), else the HTTP status refused with."""
    target = url + (query if query is not None else f"?token={token}")
    try:
        async with connect(target, open_timeout=10, max_size=2**20):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


@asynccontextmanager
async def socket(url: str, token: str, **options: Any) -> AsyncIterator[ClientConnection]:
    async with connect(f"{url}?token={token}", open_timeout=10, **options) as ws:
        yield ws


async def next_frame(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    import asyncio

    raw = await asyncio.wait_for(ws.recv(), timeout)
    value: dict[str, Any] = json.loads(raw)
    return value
