"""Finished spans recorded in memory: the test process's tracer provider, installed once
(a process has one), and what a test asks of a recorded trace."""

import asyncio
import time
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_exporter: InMemorySpanExporter | None = None


def _recording() -> InMemorySpanExporter:
    global _exporter
    if _exporter is None:
        _exporter = InMemorySpanExporter()
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
    return _exporter


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The spans finished during the test (and only those)."""
    exporter = _recording()
    exporter.clear()
    yield exporter
    exporter.clear()


def trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def span_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.span_id, "016x")


def parent_id(span: ReadableSpan) -> str | None:
    return format(span.parent.span_id, "016x") if span.parent is not None else None


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


async def wait_for_span(
    exporter: InMemorySpanExporter, name: str, timeout: float = 10.0
) -> ReadableSpan:
    deadline = time.monotonic() + timeout
    while not named(exporter, name):
        assert time.monotonic() < deadline, (
            f"no span {name!r}; finished: {[s.name for s in exporter.get_finished_spans()]}")
        await asyncio.sleep(0.02)
    return named(exporter, name)[0]


def in_trace(exporter: InMemorySpanExporter, trace: str) -> list[ReadableSpan]:
    """The trace's spans, in the order they started."""
    return sorted((s for s in exporter.get_finished_spans() if trace_id(s) == trace),
                  key=lambda s: s.start_time or 0)


def describe(spans: list[ReadableSpan]) -> list[str]:
    """`name trace=... span=... parent=...` lines, for a report or an assertion message."""
    return [f"{s.name:24} trace={trace_id(s)} span={span_id(s)} parent={parent_id(s)}"
            for s in spans]
