from ipaddress import ip_address
from typing import Any

from litestar.connection import ASGIConnection


def client_ip(connection: ASGIConnection[Any, Any, Any, Any], trusted_hops: int) -> str:
    """The caller's address: the socket peer, or — behind exactly `trusted_hops` proxies
    that each append to X-Forwarded-For — the entry those proxies saw. Anything a client
    wrote further left in the header is ignored, so a forged header gains nothing."""
    peer = connection.client.host if connection.client else "0.0.0.0"  # noqa: S104
    if trusted_hops <= 0:
        return peer
    forwarded = connection.headers.get("x-forwarded-for", "")
    hops = [part.strip() for part in forwarded.split(",") if part.strip()]
    if len(hops) < trusted_hops:
        return peer
    candidate = hops[-trusted_hops]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return peer
