"""OpenTelemetry traces: one tracer provider per process, and the W3C `traceparent` as the
plain string the use cases, the outbox, the job queue and the realtime bus carry.

Spans go out over OTLP/HTTP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, through the SDK.
Without it the SDK is not even loaded: a provider of ids only gives every span a trace id (kept
from its parent, so log lines and the hops still carry one trace) and records nothing, so
nothing is built, sampled, batched or sent. With `tracing_enabled` off no provider is installed
and every span is OpenTelemetry's no-op.
"""

import functools
import logging
import os
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import (
    NonRecordingSpan,
    NoOpTracer,
    NoOpTracerProvider,
    SpanContext,
    SpanKind,
    TraceFlags,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from application.ports.images import Deliver, Destinations
from entrypoints.wiring.settings import Settings

if TYPE_CHECKING:  # the SDK loads only in a process that installs tracing
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.id_generator import IdGenerator

log = logging.getLogger("atelier.tracing")

TRACER_NAME = "atelier"
TRACEPARENT = "traceparent"
ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
_W3C = TraceContextTextMapPropagator()


@functools.cache
def tracer() -> trace.Tracer:
    """Atelier's tracer (made once: getting one from the SDK costs more than a span)."""
    return trace.get_tracer(TRACER_NAME)


def timestamped_trace_id() -> int:
    """A trace id whose first 32 bits are the start time in Unix seconds, as X-Ray indexes
    them (any other backend sees 128 bits as usual)."""
    return (int(time.time()) << 96) | random.getrandbits(96)


class IdsOnlyTracer(NoOpTracer):
    """Spans that are ids and nothing else: a child keeps its parent's trace id and flags, a
    root gets a new timestamped trace id. Nothing is recorded, so nothing needs the SDK."""

    def start_span(self, name: str, context: Context | None = None,
                   kind: SpanKind = SpanKind.INTERNAL, *args: Any,
                   **kwargs: Any) -> trace.Span:
        parent = trace.get_current_span(context).get_span_context()
        if parent.is_valid:
            return NonRecordingSpan(SpanContext(
                parent.trace_id, random.getrandbits(64), False, parent.trace_flags))
        return NonRecordingSpan(SpanContext(
            timestamped_trace_id(), random.getrandbits(64), False, TraceFlags(0)))


class IdsOnlyTracerProvider(NoOpTracerProvider):
    """The provider of a process that exports nothing: one `IdsOnlyTracer`."""

    def __init__(self) -> None:
        self._tracer = IdsOnlyTracer()

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return self._tracer


def build_tracer_provider(
    service: str, environ: Mapping[str, str]
) -> "TracerProvider | IdsOnlyTracerProvider":
    """With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the SDK's provider named `OTEL_SERVICE_NAME` or
    `service`, exporting over OTLP/HTTP (`/v1/traces` appended); without it, ids only."""
    endpoint = environ.get(ENDPOINT_VARIABLE)
    if not endpoint:
        # Nothing would read a recorded span: ids only (for log lines and the hops), no
        # span objects, attributes, sampling or processing, and no SDK in the process.
        return IdsOnlyTracerProvider()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}),
                              id_generator=timestamped_trace_ids())
    traces_url = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or (
        endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url)))
    return provider


def timestamped_trace_ids() -> "IdGenerator":
    """Trace ids whose first 32 bits are the start time in Unix seconds, as X-Ray indexes
    them (any other backend sees 128 bits as usual); span ids stay random."""
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class TimestampedTraceIds(RandomIdGenerator):
        def generate_trace_id(self) -> int:
            return timestamped_trace_id()

    return TimestampedTraceIds()


def install_tracing(
    settings: Settings, service: str
) -> "TracerProvider | IdsOnlyTracerProvider | None":
    """Sets this process's tracer provider (once: a provider already set stays): the SDK's,
    exporting over OTLP, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; ids only otherwise."""
    if not settings.tracing_enabled:
        return None
    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider):
        return current  # type: ignore[return-value]
    provider = build_tracer_provider(service, os.environ)
    trace.set_tracer_provider(provider)
    if os.environ.get(ENDPOINT_VARIABLE):
        log.info("traces exported over OTLP/HTTP", extra={"fields": {"service": service}})
    return provider


def current_traceparent() -> str | None:
    """The active span's context as a W3C `traceparent` (None without a valid span)."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from(traceparent: str | None) -> Context | None:
    """The context a `traceparent` continues; None (a new trace) when absent or malformed."""
    if not traceparent:
        return None
    context = _W3C.extract({TRACEPARENT: traceparent})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def current_trace_id() -> str | None:
    """The active span's trace id as 32 hex digits, for log lines."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def traced_destinations(destinations: Destinations) -> Destinations:
    """Each outbox delivery of a traced message as a `publish <topic>` span in its trace;
    the destination gets the payload with that span as its `traceparent`."""
    return {topic: _traced(topic, deliver) for topic, deliver in destinations.items()}


def _traced(topic: str, deliver: Deliver) -> Deliver:
    name = f"publish {topic}"

    async def publish(payload: dict[str, Any]) -> None:
        parent = context_from(payload.get(TRACEPARENT))
        if parent is None:  # sent before tracing, or by untraced work: delivered as it is
            await deliver(payload)
            return
        with tracer().start_as_current_span(
                name, context=parent, kind=SpanKind.PRODUCER,
                attributes={"messaging.destination.name": topic}):
            await deliver({**payload, TRACEPARENT: current_traceparent() or payload[TRACEPARENT]})

    return publish
