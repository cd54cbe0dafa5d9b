"""Where spans go: nowhere unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set, then over OTLP/HTTP
to that collector (here a small HTTP server on loopback that records what it is sent).
`atelier dev` as an operator runs it: its spans arrive, named for the service (every hop of
an image request), and its log lines carry the trace id of the request they belong to."""

import json
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from websockets.sync.client import connect

from entrypoints.wiring.settings import Settings
from entrypoints.wiring.tracing import build_tracer_provider, context_from, install_tracing
from tests.integration.test_cli_newcomer import atelier_dev, free_port
from tests.support.cli import clean_environment
from tests.support.phone import API, bearer, device_id

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Collector:
    """An OTLP/HTTP trace collector on loopback: remembers every request it answers."""

    url: str
    received: list[tuple[str, str, bytes]] = field(default_factory=list)

    def spans(self) -> list[tuple[str, str, str]]:
        """(service name, span name, trace id) of every span received on /v1/traces."""
        found = []
        for path, content_type, body in self.received:
            assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
            export = ExportTraceServiceRequest()
            export.ParseFromString(body)
            for resource_spans in export.resource_spans:
                service = next(a.value.string_value for a in resource_spans.resource.attributes
                               if a.key == "service.name")
                found += [(service, span.name, span.trace_id.hex())
                          for scope in resource_spans.scope_spans for span in scope.spans]
        return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    received: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Collector(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()


def eventually(check: Callable[[], T], within: float = 20.0) -> T:
    deadline = time.monotonic() + within
    while not (found := check()):
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)
    return found


def processors(provider: TracerProvider) -> tuple[Any, ...]:
    return tuple(provider._active_span_processor._span_processors)


def test_without_an_endpoint_spans_are_ids_only_and_nothing_is_sent(
    collector: Collector,
) -> None:
    provider = build_tracer_provider("atelier-worker", {})
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("request") as request:
        assert request.get_span_context().is_valid  # ids for log lines and the hops
        assert not request.is_recording()  # nothing would read what it recorded
        with tracer.start_as_current_span("publish") as child:
            # One trace across the hops: the child keeps the trace, with an id of its own.
            assert child.get_span_context().trace_id == request.get_span_context().trace_id
            assert child.get_span_context().span_id != request.get_span_context().span_id
    remote = context_from("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    with tracer.start_as_current_span("continued", context=remote) as continued:
        assert format(continued.get_span_context().trace_id, "032x") == (
            "0af7651916cd43dd8448eb211c80319c")
        assert continued.get_span_context().trace_flags.sampled  # the caller's decision stays
    assert not isinstance(provider, TracerProvider)
    assert collector.received == []


def test_without_an_endpoint_the_sdk_is_never_loaded(tmp_path: Path) -> None:
    """No exporter, no cost: a process that installs tracing without an endpoint and serves
    a request does not even import the SDK."""
    probe = (
        "import sys\n"
        "from litestar.testing import TestClient\n"
        "from entrypoints.wiring.settings import Settings\n"
        "from entrypoints.wiring.tracing import install_tracing\n"
        "install_tracing(Settings(), 'atelier-mobile-api')\n"
        "from entrypoints.mobile_api.app import create_app\n"
        "from entrypoints.mobile_api.container import MobileContainer\n"
        "from entrypoints.wiring.infrastructure import Infrastructure\n"
        "app = create_app(MobileContainer(infrastructure=Infrastructure(settings=Settings())))\n"
        "with TestClient(app=app) as client:\n"
        "    assert client.get('/healthz').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))\n")
    environment = clean_environment(tmp_path)
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    out = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_the_service_name_is_the_entrypoints_unless_otel_service_name_says() -> None:
    exporting = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
    provider = build_tracer_provider("atelier-worker", exporting)
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "atelier-worker"
    provider.shutdown()
    provider = build_tracer_provider("atelier-worker", {**exporting,
                                                        "OTEL_SERVICE_NAME": "images-eu"})
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "images-eu"
    provider.shutdown()


@pytest.mark.parametrize("environ", [{}, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}])
def test_a_new_trace_id_starts_with_its_time_as_x_ray_wants(environ: dict[str, str]) -> None:
    provider = build_tracer_provider("atelier-worker", environ)
    before = int(time.time())
    with provider.get_tracer("test").start_as_current_span("probe") as span:
        trace_id = span.get_span_context().trace_id
    if isinstance(provider, TracerProvider):
        provider.shutdown()
    assert before <= trace_id >> 96 <= int(time.time())
    assert trace_id & ((1 << 96) - 1)  # the other 96 bits are random


def test_tracing_switched_off_installs_nothing() -> None:
    assert install_tracing(Settings(tracing_enabled=False), "atelier-dev") is None


def test_with_an_endpoint_spans_arrive_at_the_collector(collector: Collector) -> None:
    provider = build_tracer_provider(
        "atelier-mobile-api", {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url})
    assert isinstance(provider, TracerProvider)
    try:
        with provider.get_tracer("test").start_as_current_span("probe") as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
        assert provider.force_flush(10)
    finally:
        provider.shutdown()
    assert collector.spans() == [("atelier-mobile-api", "probe", trace_id)]


def test_atelier_dev_exports_an_image_requests_trace_and_logs_trace_ids(
    collector: Collector, tmp_path: Path,
) -> None:
    env = {**clean_environment(tmp_path / "data"), "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
           "OTEL_BSP_SCHEDULE_DELAY": "100", "ATELIER_METRICS_PORT": "0",
           "ATELIER_PASSWORD_HASH_MEMORY_KIB": "1024", "ATELIER_PASSWORD_HASH_TIME_COST": "1"}
    env.pop("OTEL_SERVICE_NAME", None)
    trace_id = secrets.token_hex(16)
    with atelier_dev(env, tmp_path, free_port()) as base:
        answered = httpx.get(f"{base}/healthz",
                             headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
        assert answered.status_code == 200
        guest = httpx.post(f"{base}{API}/guests",
                           json={"device_id": device_id(), "platform": "ios"}).json()
        realtime = httpx.post(f"{base}{API}/realtime/token",
                              headers=bearer(guest["tokens"])).json()
        # The phone's socket: the gateway follows its user's channel, and delivers to it.
        with connect(f"{realtime['url']}?token={realtime['token']}", open_timeout=10) as phone:
            accepted = httpx.post(f"{base}{API}/images", json={"prompt": "a red fox"},
                                  headers=bearer(guest["tokens"]))
            assert accepted.status_code == 202, accepted.text
            ready = json.loads(phone.recv(timeout=30))
            assert ready["data"]["type"] == "image.ready", ready
        image_trace = eventually(lambda: [t for _, name, t in collector.spans()
                                          if name == "POST /v1/api/images"])[0]
        hops = {"POST /v1/api/images", "publish image.requested", "image.process",
                "image.generate", "image.upload", "publish image.ready", "realtime.deliver"}
        eventually(lambda: hops <= {name for service, name, t in collector.spans()
                                    if t == image_trace and service == "atelier-dev"})
        eventually(lambda: ("atelier-dev", "GET /healthz", trace_id) in collector.spans())
    lines = [json.loads(line) for line in (tmp_path / "dev.log").read_text().splitlines()
             if line.startswith("{")]
    [access] = [line for line in lines if line.get("logger") == "atelier.access"
                and line.get("path") == "/healthz" and line.get("trace_id") == trace_id]
    assert access["request_id"] and access["status"] == 200


def test_without_an_endpoint_atelier_dev_still_logs_one_trace_id_per_image_request(
    collector: Collector, tmp_path: Path,
) -> None:
    """No exporter: nothing is sent anywhere, yet the request's access line and the
    worker's line for its image carry the same trace id, and a phone's is continued."""
    env = {**clean_environment(tmp_path / "data"), "ATELIER_METRICS_PORT": "0",
           "ATELIER_PASSWORD_HASH_MEMORY_KIB": "1024", "ATELIER_PASSWORD_HASH_TIME_COST": "1"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    phone_trace = secrets.token_hex(16)
    with atelier_dev(env, tmp_path, free_port()) as base:
        guest = httpx.post(f"{base}{API}/guests",
                           json={"device_id": device_id(), "platform": "ios"}).json()
        accepted = httpx.post(
            f"{base}{API}/images", json={"prompt": "a red fox"}, headers={
                **bearer(guest["tokens"]),
                "traceparent": f"00-{phone_trace}-{secrets.token_hex(8)}-01"})
        assert accepted.status_code == 202, accepted.text
        image_id = accepted.json()["id"]

        def worker_line() -> list[dict[str, Any]]:
            return [line for line in (json.loads(raw) for raw in (
                tmp_path / "dev.log").read_text().splitlines() if raw.startswith("{"))
                if line.get("logger") == "atelier.worker" and image_id in line.get("msg", "")]

        [worked] = eventually(worker_line)
    lines = [json.loads(line) for line in (tmp_path / "dev.log").read_text().splitlines()
             if line.startswith("{")]
    [access] = [line for line in lines if line.get("logger") == "atelier.access"
                and line.get("path") == f"{API}/images" and line.get("method") == "POST"]
    assert access["trace_id"] == phone_trace
    assert worked["trace_id"] == phone_trace
    [own] = [line for line in lines if line.get("logger") == "atelier.access"
             and line.get("path") == f"{API}/guests"]
    assert len(own["trace_id"]) == 32 and own["trace_id"] != phone_trace
    assert collector.received == []
