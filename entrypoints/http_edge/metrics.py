"""`atelier_http_request_duration_seconds`: every request, by its route TEMPLATE."""

import time
from typing import Protocol

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
"""The route of a request no route matched (404, 405): raw paths never become labels."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics(Protocol):
    def http_request(
        self, entrypoint: str, route: str, method: str, status: int, seconds: float
    ) -> None: ...


class RequestMetrics:
    """Wraps an app's ASGI handler outside its router, so requests no route matched are
    counted too. `metrics` is set when the app starts."""

    def __init__(self, app: ASGIApp, entrypoint: str) -> None:
        self.app, self.entrypoint = app, entrypoint
        self.metrics: HttpMetrics | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = self.metrics
        if metrics is None or scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # The router leaves the matched route's template in the scope.
            route = scope.get("path_template") or UNMATCHED
            method: str = scope["method"]
            method = method if method in METHODS else "OTHER"
            metrics.http_request(self.entrypoint, route, method, status,
                                 time.perf_counter() - started)
