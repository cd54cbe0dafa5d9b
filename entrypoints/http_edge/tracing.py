"""A server span per HTTP request, named by its route template, continuing the caller's
W3C `traceparent` when it sends a valid one (a malformed one starts a new trace)."""

from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import SpanKind, Status, StatusCode

from entrypoints.wiring.tracing import TRACEPARENT, context_from, tracer

_TRACEPARENT = TRACEPARENT.encode()


class TracingMiddleware:
    """ASGI middleware: the request's span is current while the app (and its access log
    line) runs; the raw path never names a span, only the route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == _TRACEPARENT), b"")
        method = scope["method"]
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with tracer().start_as_current_span(
                method, context=context_from(incoming.decode("latin-1")), kind=SpanKind.SERVER,
                attributes={"http.request.method": method}) as span:
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route: Any = scope.get("path_template")
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
