"""One image request is one trace: the HTTP request, its outbox row, the job queue, the
worker's generation, upload and publish, the bus message and the gateway's delivery to
the phone's socket. Everything `atelier dev` runs on one port, over real HTTP and a real
WebSocket: with the durable local queue (and the in-memory or the Redis bus), and with
SQS on the moto server."""

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from websockets.asyncio.client import connect

from adapters.aws.sqs_job_queue import create_queues
from adapters.sql.migrate import upgrade_database
from entrypoints.dev.app import create_dev_app
from entrypoints.http_edge.logging import JsonFormatter
from entrypoints.wiring.settings import Settings
from tests.e2e.test_account_deletion import free_port, serving_on
from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.support.images import FAST
from tests.support.phone import API, bearer, new_guest
from tests.support.stack import CHEAP_HASHING
from tests.support.tracing import (
    describe,
    in_trace,
    parent_id,
    span_id,
    spans,
    trace_id,
    wait_for_span,
)

__all__ = ["spans"]  # the fixture

HOPS = ("POST /v1/api/images", "publish image.requested", "image.process", "image.generate",
        "image.upload", "publish image.ready", "realtime.deliver")
PARENT_OF = {
    "publish image.requested": "POST /v1/api/images",
    "image.process": "publish image.requested",
    "image.generate": "image.process",
    "image.upload": "image.process",
    "publish image.ready": "image.process",
    "realtime.deliver": "publish image.ready",
}


@dataclass
class Dev:
    base_url: str
    client: httpx.AsyncClient


DevFactory = Callable[..., AbstractAsyncContextManager[Dev]]


@pytest.fixture
def dev(tmp_path: Path) -> DevFactory:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Dev]:
        url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
        await upgrade_database(url)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        settings = Settings.model_validate({
            "data_dir": tmp_path / "data", "database_url": url, "keystore": "memory",
            "redis_url": None, "public_url": base_url, **CHEAP_HASHING, **FAST,
            "rate_limit_sessions_per_minute": 10_000, "rate_limit_guests_per_minute": 10_000,
            "metrics_port": 0, **overrides})
        async with (
            serving_on(create_dev_app(settings), port),
            httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        ):
            yield Dev(base_url, client)

    return start


async def image_ready_on_the_phone(dev: Dev, headers: dict[str, str] | None = None) -> str:
    """A guest's socket is open when it asks for an image; answers the image id once the
    socket has heard `image.ready`."""
    tokens = (await new_guest(dev.client))["tokens"]
    issued = (await dev.client.post(f"{API}/realtime/token", headers=bearer(tokens))).json()
    async with connect(f"{issued['url']}?token={issued['token']}") as socket:
        accepted = await dev.client.post(
            f"{API}/images", json={"prompt": "a red fox"},
            headers={**bearer(tokens), **(headers or {})})
        assert accepted.status_code == 202, accepted.text
        image_id: str = accepted.json()["id"]
        async with asyncio.timeout(20):
            while True:
                frame = json.loads(await socket.recv())
                if frame["data"].get("type") == "image.ready":
                    assert frame["data"]["id"] == image_id
                    return image_id


async def one_trace(spans: InMemorySpanExporter) -> list[ReadableSpan]:
    """The trace of the one image request, checked hop by hop."""
    request = await wait_for_span(spans, "POST /v1/api/images")
    for hop in HOPS[1:]:  # a span is recorded when it ends: the worker's after the delivery
        await wait_for_span(spans, hop)
    trace = in_trace(spans, trace_id(request))
    by_name = {s.name: s for s in trace}
    assert set(HOPS) <= set(by_name), describe(trace)
    for child, parent in PARENT_OF.items():
        assert parent_id(by_name[child]) == span_id(by_name[parent]), describe(trace)
    assert [s for s in spans.get_finished_spans() if s.name in HOPS[1:]
            and trace_id(s) != trace_id(request)] == []  # no hop started a trace of its own
    assert by_name["POST /v1/api/images"].kind is SpanKind.SERVER
    assert by_name["realtime.deliver"].attributes is not None
    assert by_name["realtime.deliver"].attributes["realtime.sockets_reached"] == 1
    return trace


@pytest.mark.parametrize("bus", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def test_one_image_request_is_one_trace_on_the_embedded_default(
    dev: DevFactory, spans: InMemorySpanExporter, bus: str, request: pytest.FixtureRequest,
) -> None:
    overrides: dict[str, Any] = {}
    if bus == "redis":
        overrides = {"redis_url": request.getfixturevalue("redis_url"),
                     "realtime_bus_prefix": f"atelier:test:{secrets.token_hex(4)}:"}
    async with dev(**overrides) as running:
        await image_ready_on_the_phone(running)
        trace = await one_trace(spans)
    request_span = trace[0]
    assert request_span.name == "POST /v1/api/images" and request_span.parent is None
    print("\n".join(describe(trace)))


@pytest.mark.moto
async def test_one_image_request_is_one_trace_through_sqs(
    dev: DevFactory, spans: InMemorySpanExporter, aws: Aws, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
    async with aws.client("sqs") as sqs:
        queue_url, dead_url = await create_queues(sqs, f"jobs-{secrets.token_hex(3)}", 5, 5)
    async with dev(sqs_queue_url=queue_url, sqs_dlq_url=dead_url,
                   aws_endpoint_url=aws.endpoint_url, worker_wait_seconds=1.0) as running:
        await image_ready_on_the_phone(running)
        trace = await one_trace(spans)
    print("\n".join(describe(trace)))


@pytest.fixture
def json_lines() -> Iterator[list[dict[str, Any]]]:
    """The JSON log lines of the access log and the worker, as a log pipeline reads them."""
    lines: list[dict[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("atelier.access", "atelier.worker")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield lines
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_the_phones_traceparent_is_continued_and_in_the_log_lines(
    dev: DevFactory, spans: InMemorySpanExporter, json_lines: list[dict[str, Any]],
) -> None:
    phone_trace, phone_span = secrets.token_hex(16), secrets.token_hex(8)
    async with dev() as running:
        image_id = await image_ready_on_the_phone(
            running, {"traceparent": f"00-{phone_trace}-{phone_span}-01"})
        trace = await one_trace(spans)
    assert trace_id(trace[0]) == phone_trace and parent_id(trace[0]) == phone_span
    [access] = [line for line in json_lines
                if line["logger"] == "atelier.access" and line["method"] == "POST"
                and line["path"] == "/v1/api/images"]
    assert access["trace_id"] == phone_trace and access["request_id"]
    [worked] = [line for line in json_lines
                if line["logger"] == "atelier.worker" and image_id in line["msg"]]
    assert worked["trace_id"] == phone_trace


@pytest.mark.parametrize("malformed", [
    "garbage", "00-" + "0" * 32 + "-" + "1" * 16 + "-01", "00-" + "a" * 32 + "-" + "0" * 16 + "-01",
    "00-" + "A" * 32 + "-" + "b" * 16 + "-01", "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",
    "00-" + "a" * 31 + "-" + "b" * 16 + "-01", "\u00e9" * 55])
async def test_a_malformed_traceparent_starts_a_new_trace(
    dev: DevFactory, spans: InMemorySpanExporter, malformed: str,
) -> None:
    async with dev() as running:
        tokens = (await new_guest(running.client))["tokens"]
        accepted = await running.client.post(
            f"{API}/images", json={"prompt": "a red fox"},
            headers=[*bearer(tokens).items(), ("traceparent", malformed.encode())])
        assert accepted.status_code == 202, accepted.text
        request = await wait_for_span(spans, "POST /v1/api/images")
        await wait_for_span(spans, "image.process")
    assert request.parent is None
    assert trace_id(request) not in malformed
    process = next(s for s in spans.get_finished_spans() if s.name == "image.process")
    assert trace_id(process) == trace_id(request)

