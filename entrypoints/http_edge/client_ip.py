from ipaddress import ip_address
from typing import Any

from litestar.connection import ASGIConnection

FORWARDED_FOR = b"x-forwarded-for"


def forwarded_hops(connection: ASGIConnection[Any, Any, Any, Any]) -> list[str]:
    """Every X-Forwarded-For entry, left to right. Several header lines are one list joined
    in order (RFC 9110 5.3): a proxy may add its own line rather than append to the first."""
    lines = [value.decode("latin-1") for name, value in connection.scope["headers"]
             if name.lower() == FORWARDED_FOR]
    return [part.strip() for part in ",".join(lines).split(",") if part.strip()]


def client_ip(connection: ASGIConnection[Any, Any, Any, Any], trusted_hops: int) -> str:
    """The caller's address: the socket peer, or — behind exactly `trusted_hops` proxies
    that each append to X-Forwarded-For — the entry those proxies saw. Anything a client
    wrote further left in the header is ignored, so a forged header gains nothing."""
    peer = connection.client.host if connection.client else "0.0.0.0"  # noqa: S104
    if trusted_hops <= 0:
        return peer
    hops = forwarded_hops(connection)
    if len(hops) < trusted_hops:
        return peer
    candidate = hops[-trusted_hops]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return peer
