"""The process's metrics: one registry per infrastructure (so `atelier dev` serves every
app's metrics together), the server scrapers read, and the gauges sampled per scrape."""

import inspect
import time
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.metrics import NoMetrics
from adapters.prometheus.metrics import PrometheusMetrics
from application.ports.clock import Clock
from application.ports.images import ImageGenerator, JobQueue
from domain.images.options import ImageRequest
from entrypoints.wiring.settings import Settings

ProcessMetrics = PrometheusMetrics | NoMetrics


def build_metrics(settings: Settings) -> ProcessMetrics:
    """Prometheus counters when a metrics port is set; otherwise nothing is counted."""
    return PrometheusMetrics() if settings.metrics_port else NoMetrics()


async def serve_metrics(settings: Settings, metrics: ProcessMetrics) -> AsyncIterator[int | None]:
    """`GET /metrics` on `metrics_host:metrics_port` while the process runs; the bound port
    (None when off or when the port is taken)."""
    if not isinstance(metrics, PrometheusMetrics):
        yield None
        return
    from adapters.prometheus.server import serving_metrics

    async with serving_metrics(metrics.render, settings.metrics_host,
                               settings.metrics_port) as port:
        yield port


def watch_outbox_lag(metrics: ProcessMetrics, engine: AsyncEngine, clock: Clock) -> bool:
    """`atelier_outbox_lag_seconds`, read from the database at each scrape (0: all delivered)."""
    from adapters.sql.outbox_lag import oldest_undelivered

    async def sample() -> None:
        oldest = await oldest_undelivered(engine)
        metrics.outbox_lag(0.0 if oldest is None else max(
            0.0, (clock() - oldest).total_seconds()))

    metrics.sample_on_scrape(sample)
    return True


def watch_queue_depth(metrics: ProcessMetrics, job_queue: JobQueue) -> bool:
    """`atelier_queue_depth{queue}` at each scrape, when the queue can tell (the local and
    in-memory queues; SQS publishes its own CloudWatch metrics)."""
    depth = getattr(job_queue, "depth", None)
    if depth is None:
        return False

    async def sample() -> None:
        found: Any = depth()
        jobs, dead = (await found) if inspect.isawaitable(found) else found
        metrics.queue_depth("jobs", jobs)
        metrics.queue_depth("dead_letters", dead)

    metrics.sample_on_scrape(sample)
    return True


class TimedImageGenerator:
    """The generator, with the time each image took in `atelier_generation_seconds`."""

    def __init__(self, generator: ImageGenerator, metrics: ProcessMetrics) -> None:
        self._generator, self._metrics = generator, metrics

    async def generate(self, request: ImageRequest) -> bytes:
        started = time.perf_counter()
        try:
            return await self._generator.generate(request)
        finally:
            self._metrics.generation_took(time.perf_counter() - started)
