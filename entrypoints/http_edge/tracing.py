"""A server span per HTTP request, named by its route template, continuing the caller's
W3C `traceparent` when it sends a valid one (a malformed one starts a new trace)."""

from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from entrypoints.wiring.tracing import TRACEPARENT, context_from, tracer

_TRACEPARENT = TRACEPARENT.encode()


class TracingMiddleware:
    """ASGI middleware: the request's span is current while the app (and its access log
    line) runs; the raw path never names a span, only the route template. Without a
    tracer provider (tracing switched off) it steps aside."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or isinstance(
                trace.get_tracer_provider(), trace.ProxyTracerProvider):
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == _TRACEPARENT), b"")
        method = scope["method"]
        # Attached by hand, not `start_as_current_span`: this runs on every request.
        span = tracer().start_span(
            method, context=context_from(incoming.decode("latin-1")), kind=SpanKind.SERVER,
            attributes={"http.request.method": method})
        token = context.attach(trace.set_span_in_context(span))
        if not span.is_recording():  # ids only (no exporter): nothing to name or annotate
            try:
                await self.app(scope, receive, send)
            finally:
                context.detach(token)
            return
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except Exception as error:
            span.record_exception(error)
            raise
        finally:
            route: Any = scope.get("path_template")
            if route:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            context.detach(token)
            span.end()
