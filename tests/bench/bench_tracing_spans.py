"""What a traced request costs the server: the HTTP server span (TracingMiddleware, the
phone's traceparent continued) around a trivial ASGI app, with tracing on and no exporter
(the default without OTEL_EXPORTER_OTLP_ENDPOINT: the provider of ids only), the same with
the SDK's never-sampling provider (what that default used to be), the SDK recording into a
processor that drops everything (the cost of a sampled span before export), tracing off (no
provider: the middleware steps aside) and without the middleware at all; rounds interleaved
in one process, medians of microseconds per request. The JSON log line's trace_id lookup is
measured the same way.

    uv run python -m tests.bench.bench_tracing_spans
"""

import asyncio
import logging
import os
import statistics
import time
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import entrypoints.http_edge.tracing as http_tracing
from entrypoints.http_edge.logging import JsonFormatter
from entrypoints.http_edge.tracing import TracingMiddleware
from entrypoints.wiring.tracing import build_tracer_provider

ROUNDS, REQUESTS = int(os.environ.get("BENCH_ROUNDS", "15")), 5000
TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def app(scope: Any, receive: Any, send: Any) -> None:
    scope["path_template"] = "/v1/api/me"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def requests_per(handler: Any, headers: list[tuple[bytes, bytes]]) -> float:
    """Microseconds per request through `handler`."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for _ in range(REQUESTS):
        await handler({"type": "http", "method": "GET", "path": "/v1/api/me",
                       "headers": headers}, receive, send)
    return (time.perf_counter() - started) / REQUESTS * 1e6


def log_line_cost(formatter: JsonFormatter, tracer: trace.Tracer | None) -> float:
    record = logging.LogRecord("atelier.access", logging.INFO, __file__, 1, "request", None,
                               None)
    record.fields = {"request_id": "0123456789abcdef", "status": 200}
    started = time.perf_counter()
    if tracer is None:
        for _ in range(REQUESTS):
            formatter.format(record)
    else:
        with tracer.start_as_current_span("request"):
            for _ in range(REQUESTS):
                formatter.format(record)
    return (time.perf_counter() - started) / REQUESTS * 1e6


async def main() -> None:
    provider = build_tracer_provider("atelier-bench", {})  # no endpoint: ids only
    never_sampling = TracerProvider(sampler=ALWAYS_OFF)
    recording = TracerProvider()
    recording.add_span_processor(SpanProcessor())  # records every span, sends nothing
    on = provider.get_tracer("atelier")
    traced = TracingMiddleware(app)
    # The process's provider, switched between rounds (what ATELIER_TRACING_ENABLED and the
    # endpoint decide once per process): installed, or none at all.
    chosen: dict[str, Any] = {
        "tracing on, no exporter (ids only)": provider,
        "SDK never sampling (the old default)": never_sampling,
        "SDK recording (exporter's share not counted)": recording,
        "tracing off (no provider)": None}
    results: dict[str, list[float]] = {name: [] for name in
                                       ("no middleware", *chosen, "on, phone traceparent")}
    for _ in range(ROUNDS):
        results["no middleware"].append(await requests_per(app, []))
        for name, installed in chosen.items():
            trace._TRACER_PROVIDER = installed
            chosen_tracer = (installed or provider).get_tracer("atelier")
            setattr(http_tracing, "tracer", lambda t=chosen_tracer: t)  # noqa: B010
            results[name].append(await requests_per(traced, []))
        trace._TRACER_PROVIDER = provider
        setattr(http_tracing, "tracer", lambda: on)  # noqa: B010
        results["on, phone traceparent"].append(
            await requests_per(traced, [(b"traceparent", TRACEPARENT)]))
    base = statistics.median(results["no middleware"])
    print(f"{'per request':46} {'median us':>10} {'+us vs none':>12}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:46} {median:10.2f} {median - base:12.2f}")
    formatter = JsonFormatter()
    plain = statistics.median(log_line_cost(formatter, None) for _ in range(ROUNDS))
    with_id = statistics.median(log_line_cost(formatter, on) for _ in range(ROUNDS))
    print(f"{'JSON log line, no span':46} {plain:10.2f}")
    print(f"{'JSON log line with trace_id':46} {with_id:10.2f} {with_id - plain:12.2f}")
    never_sampling.shutdown()
    recording.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
