from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from application.ports.limits import RateLimiter
from domain.shared.errors import TooManyRequests
from entrypoints.http_edge.client_ip import client_ip


@dataclass(frozen=True)
class Limit:
    """`count` hits per `period` seconds, per client address, or in total when `global_`."""

    name: str
    count: int
    period: float
    global_: bool = False


@dataclass(frozen=True)
class RateLimits:
    """The limiter, the limit every route shares, and named stricter ones (handler opt
    `limit`, e.g. `opt={"limit": "sessions"}`)."""

    limiter: RateLimiter
    default: Limit
    trusted_hops: int
    named: dict[str, tuple[Limit, ...]]


class RateLimitGuard:
    """Checks the default per-IP limit and the route's named ones."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        if handler.opt.get("skip_rate_limit"):
            return
        ip = client_ip(connection, self._limits.trusted_hops)
        named = self._limits.named.get(handler.opt.get("limit", ""), ())
        for limit in (self._limits.default, *named):
            key = f"{limit.name}:global" if limit.global_ else f"{limit.name}:{ip}"
            decision = await self._limits.limiter.hit(key, limit.count, limit.period)
            if not decision.allowed:
                raise TooManyRequests(decision.retry_after, "too many requests; slow down")


class RateLimitHook:
    """A router's `before_request` hook (runs before the body is read), given the limits
    when the app is built; they are read once the app has started. Not a guard: litestar
    copies the route handler for every guard call, ~20 us a request."""

    def __init__(self, limits: Callable[[], RateLimits]) -> None:
        self._limits = limits

    async def __call__(self, request: Request[Any, Any, Any]) -> None:
        await RateLimitGuard(self._limits())(request, request.route_handler)
