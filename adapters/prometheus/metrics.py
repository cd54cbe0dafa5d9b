"""Every metric of one process in its own registry (never the library's global one), so
apps and tests built side by side never share counters; `atelier dev` shares one."""

import asyncio
import logging
import math
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

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
        self._http = _RequestDurations()
        registry.register(self._http)
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
        self._http.observe((entrypoint, route, method, status), seconds)

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


HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


class _RequestDurations(Collector):
    """`atelier_http_request_duration_seconds`, kept in plain lists: every request and every
    scrape runs on the process's one event loop, so the library's per-value locks (most of
    a request's metrics cost) buy nothing here."""

    NAME = "atelier_http_request_duration_seconds"

    def __init__(self, buckets: tuple[float, ...] = HTTP_BUCKETS) -> None:
        self._bounds = buckets
        self._les = [floatToGoString(b) for b in (*buckets, math.inf)]  # type: ignore[no-untyped-call]
        # per (entrypoint, route, method, status): a count per bucket (not cumulative),
        # the +Inf one last, then the sum of the observed seconds
        self._series: dict[tuple[str, str, str, int], list[float]] = {}

    def observe(self, key: tuple[str, str, str, int], seconds: float) -> None:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = [0.0] * (len(self._bounds) + 2)
        series[bisect_left(self._bounds, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Iterable[HistogramMetricFamily]:
        family = HistogramMetricFamily(
            self.NAME, "HTTP requests by entrypoint, route template, method and status.",
            labels=["entrypoint", "route", "method", "status"])
        for (entrypoint, route, method, status), series in list(self._series.items()):
            cumulative, running = [], 0.0
            for le, count in zip(self._les, series[:-1], strict=True):
                running += count
                cumulative.append((le, running))
            family.add_metric([entrypoint, route, method, str(status)], cumulative,
                              sum_value=series[-1])
        yield family
