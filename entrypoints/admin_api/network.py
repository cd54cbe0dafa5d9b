"""The admin API's network guard: only allow-listed client addresses get in.

The address is the socket peer, or the X-Forwarded-For entry that exactly the configured
number of trusted proxies (CloudFront -> ALB) appended; whatever a client wrote further left
is ignored, so a forged header gains nothing. Denials answer 403 `ip_not_allowed` and are
logged.

The probes answer from any address: the load balancer checks `/readyz` from its own
address and the container health check `/healthz` from the task's, neither of which is (or
should be) allow-listed. They answer here, before the app, and tell nothing but that the
process serves: the admin API depends on nothing a load balancer could route around.
"""

import json
import logging
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from entrypoints.http_edge.client_ip import client_ip

log = logging.getLogger("atelier.admin.network")

PROBE_PATHS = frozenset({"/healthz", "/readyz"})
ALIVE = json.dumps({"status": "ok"}).encode()

DENIED = json.dumps({"error": {
    "code": "ip_not_allowed",
    "message": "the admin API is not reachable from this address"}}).encode()


class AllowList:
    """CIDRs (IPv4 and IPv6); an IPv4-mapped IPv6 address counts as its IPv4 address."""

    def __init__(self, cidrs: Iterable[str]) -> None:
        self.networks: list[IPv4Network | IPv6Network] = [
            ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip()]

    @classmethod
    def parse(cls, raw: str) -> "AllowList":
        return cls(raw.split(","))

    def allows(self, address: str) -> bool:
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.networks)


class AllowListGate:
    """ASGI wrapper around the whole admin app, so that even unknown paths answer 403
    to a stranger; lifespan passes through. `open_paths` (health) skip the check."""

    def __init__(
        self, app: ASGIApp, allow: AllowList, trusted_hops: int,
        open_paths: frozenset[str] = frozenset(), denied: tuple[bytes, bytes] | None = None,
    ) -> None:
        """`denied`: (content type, body) a stranger gets instead of the JSON error."""
        self.app, self._allow, self._hops, self._open = app, allow, trusted_hops, open_paths
        self._denied = denied or (b"application/json", DENIED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["path"] in PROBE_PATHS:
            await _answer(send, 200, ALIVE, head=scope.get("method") == "HEAD")
            return
        if scope["type"] in ("http", "websocket") and scope["path"] not in self._open:
            address = client_ip(ASGIConnection[Any, Any, Any, Any](scope), self._hops)
            if not self._allow.allows(address):
                peer = scope.get("client")
                log.warning("admin request refused: address not allowed", extra={"fields": {
                    "client_ip": address, "peer": peer[0] if peer else None,
                    "method": scope.get("method"), "path": scope["path"]}})
                await _deny(scope, send, self._denied)
                return
        await self.app(scope, receive, send)


async def _deny(scope: Scope, send: Send, denied: tuple[bytes, bytes]) -> None:
    if scope["type"] == ScopeType.WEBSOCKET:
        await send({"type": "websocket.close", "code": 1008, "reason": "ip_not_allowed"})
        return
    content_type, body = denied
    await _answer(send, 403, body, content_type=content_type)


async def _answer(
    send: Send, status: int, body: bytes, head: bool = False,
    content_type: bytes = b"application/json",
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": b"" if head else body, "more_body": False})
