"""Every metric of one process in its own registry (never the library's global one), so
apps and tests built side by side never share counters; `atelier dev` shares one."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from application.ports.metrics import RefreshOutcome

log = logging.getLogger("atelier.metrics")

SAMPLE_TIMEOUT = 2.0
"""Seconds a scrape waits for one sampler (a database or queue look-up) before skipping it."""
GENERATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)

Sampler = Callable[[], Awaitable[None]]


class PrometheusMetrics:
    """The Metrics port and the entrypoints' own counters, by the names dashboards use."""

    def __init__(self) -> None:
        # No `_created` series beside each counter: half the series, nothing a dashboard reads.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry = CollectorRegistry(auto_describe=False)
        self._http = Histogram(
            "atelier_http_request_duration_seconds",
            "HTTP requests by entrypoint, route template, method and status.",
            ["entrypoint", "route", "method", "status"], registry=registry)
        self._refresh = Counter(
            "atelier_refresh", "Refresh-token presentations by outcome.", ["outcome"],
            registry=registry)
        self._handshakes = Counter(
            "atelier_gateway_handshakes", "WebSocket handshakes, accepted or refused by reason.",
            ["outcome", "reason"], registry=registry)
        self._sockets = Gauge(
            "atelier_gateway_sockets_open", "Sockets open on this gateway node.",
            registry=registry)
        self._delivered = Counter(
            "atelier_gateway_messages_delivered", "Messages handed to sockets.",
            registry=registry)
        self._jwks = Counter(
            "atelier_jwks_fetches", "JWKS fetches by outcome.", ["outcome"], registry=registry)
        self._jobs = Counter(
            "atelier_jobs", "Image jobs handled by the worker, by outcome.", ["outcome"],
            registry=registry)
        self._generation = Histogram(
            "atelier_generation_seconds", "Time the image generator took for one image.",
            buckets=GENERATION_BUCKETS, registry=registry)
        self._outbox_lag = Gauge(
            "atelier_outbox_lag_seconds", "Age of the oldest undelivered outbox message.",
            registry=registry)
        self._queue_depth = Gauge(
            "atelier_queue_depth", "Messages waiting in the job queue and dead-letter queue.",
            ["queue"], registry=registry)
        self._maintenance = Counter(
            "atelier_maintenance_runs", "Maintenance (retention) runs by outcome.", ["outcome"],
            registry=registry)
        self._deleted = Counter(
            "atelier_maintenance_deleted", "Rows deleted by maintenance, by table.", ["table"],
            registry=registry)
        # `labels()` validates and locks on every call; the hot path looks its child up here.
        self._http_children: dict[tuple[str, str, str, int], Any] = {}
        self._samplers: list[Sampler] = []

    # --- the application's Metrics port

    def refresh_finished(self, outcome: RefreshOutcome) -> None:
        self._refresh.labels(outcome).inc()

    def maintenance_finished(
        self, outcome: Literal["succeeded", "failed"], deleted: Mapping[str, int]
    ) -> None:
        self._maintenance.labels(outcome).inc()
        for table, count in deleted.items():
            self._deleted.labels(table).inc(count)

    # --- the entrypoints'

    def http_request(
        self, entrypoint: str, route: str, method: str, status: int, seconds: float
    ) -> None:
        key = (entrypoint, route, method, status)
        child = self._http_children.get(key)
        if child is None:
            child = self._http_children[key] = self._http.labels(
                entrypoint, route, method, str(status))
        child.observe(seconds)

    def handshake(self, outcome: str, reason: str) -> None:
        self._handshakes.labels(outcome, reason).inc()

    def watch_gateway(
        self, sockets_open: Callable[[], int], slow_consumers_closed: Callable[[], int]
    ) -> None:
        """Read from the gateway's hub at each scrape (nothing to count per message)."""
        self._sockets.set_function(sockets_open)
        self.registry.register(_ReadCounter(
            "atelier_gateway_slow_consumers_closed",
            "Sockets closed (1013) because their send queue filled.", slow_consumers_closed))

    def messages_delivered(self, count: int) -> None:
        if count:
            self._delivered.inc(count)

    def jwks_fetched(self, outcome: str) -> None:
        self._jwks.labels(outcome).inc()

    def job_finished(self, outcome: str) -> None:
        self._jobs.labels(outcome).inc()

    def generation_took(self, seconds: float) -> None:
        self._generation.observe(seconds)

    def outbox_lag(self, seconds: float) -> None:
        self._outbox_lag.set(seconds)

    def queue_depth(self, queue: str, messages: int) -> None:
        self._queue_depth.labels(queue).set(messages)

    # --- scraping

    def sample_on_scrape(self, sampler: Sampler) -> None:
        """`sampler` sets gauges that need I/O (outbox lag, queue depth) before each scrape."""
        self._samplers.append(sampler)

    async def render(self) -> bytes:
        """The Prometheus text format, after the samplers have run (each one bounded)."""
        for sampler in self._samplers:
            try:
                async with asyncio.timeout(SAMPLE_TIMEOUT):
                    await sampler()
            except Exception as exc:  # a gauge left at its last value beats a failed scrape
                log.warning("metrics sampler failed", extra={"fields": {"error": repr(exc)}})
        return generate_latest(self.registry)


class _ReadCounter(Collector):
    """A counter its owner already keeps (an int), read at each scrape."""

    def __init__(self, name: str, documentation: str, read: Callable[[], int]) -> None:
        self._name, self._documentation, self._read = name, documentation, read

    def collect(self) -> Iterable[CounterMetricFamily]:
        yield CounterMetricFamily(self._name, self._documentation, value=self._read())
