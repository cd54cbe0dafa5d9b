"""The JWKS document of keys this process publishes, answered without a network round trip.

The embedded default mounts the gateway beside its origin: the gateway's `HttpJwksSource`
reads the same document the origin serves at `/.well-known/jwks.json`, through this
transport, so it has its keys at start-up, before the server listens on its port.
"""

import json
from collections.abc import Callable

import httpx

from domain.keys.model import SigningKey


class PublishedKeysTransport(httpx.AsyncBaseTransport):
    """An httpx transport answering every GET with `{"keys": [...]}` of `published()`."""

    def __init__(self, published: Callable[[], list[SigningKey]], max_age_seconds: int) -> None:
        self._published, self._max_age = published, max_age_seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            return httpx.Response(405)
        body = json.dumps({"keys": [key.jwk() for key in self._published()]}).encode()
        return httpx.Response(200, content=body, headers={
            "Content-Type": "application/json",
            "Cache-Control": f"public, max-age={self._max_age}"})
