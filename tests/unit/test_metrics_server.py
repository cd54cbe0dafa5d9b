"""The metrics server answers scrapers at /metrics only; a taken port never stops a service;
a failing sampler leaves its gauge as it was instead of failing the scrape."""

import asyncio
import logging
import socket

import httpx
import pytest

from adapters.crypto.eddsa import InvalidToken, UnknownKid
from adapters.prometheus.metrics import PrometheusMetrics
from adapters.prometheus.server import serving_metrics
from entrypoints.edge_gateway.admission import REFUSAL_REASONS, refusal_reason


async def test_only_metrics_is_served() -> None:
    metrics = PrometheusMetrics()
    metrics.job_finished("ready")
    async with (
        serving_metrics(metrics.render, "127.0.0.1", 0) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client,
    ):
        scraped = await client.get("/metrics")
        assert scraped.status_code == 200
        assert 'atelier_jobs_total{outcome="ready"} 1.0' in scraped.text
        assert "_created" not in scraped.text
        for path in ("/", "/metrics/../secret", "/healthz", "/v1/api/me"):
            assert (await client.get(path)).status_code == 404
        assert (await client.post("/metrics")).status_code == 404


async def test_a_taken_port_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, "atelier.metrics"):
            async with serving_metrics(PrometheusMetrics().render, "127.0.0.1", port) as bound:
                assert bound is None
    assert f"127.0.0.1:{port} is not available" in caplog.text


async def test_a_failing_sampler_keeps_the_scrape() -> None:
    metrics = PrometheusMetrics()

    async def broken() -> None:
        raise ConnectionError("database down")

    async def stuck() -> None:
        await asyncio.sleep(3600)

    async def depth() -> None:
        metrics.queue_depth("jobs", 7)

    for sampler in (broken, depth):
        metrics.sample_on_scrape(sampler)
    assert b'atelier_queue_depth{queue="jobs"} 7.0' in await metrics.render()
    metrics.sample_on_scrape(stuck)
    started = asyncio.get_running_loop().time()
    assert b"atelier_queue_depth" in await metrics.render()
    assert asyncio.get_running_loop().time() - started < 5


def test_refusal_reasons_come_from_a_fixed_list() -> None:
    reasons = {refusal_reason(InvalidToken(text)) for text in (
        "expired", "bad signature", "wrong audience", "malformed json", "x" * 300)}
    reasons.add(refusal_reason(UnknownKid("unknown kid")))
    assert reasons == {"token_expired", "invalid_token", "unknown_kid"}
    assert reasons <= set(REFUSAL_REASONS)


def test_registries_are_per_process_object_not_global() -> None:
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.refresh_finished("rotated")
    assert first.registry is not second.registry
    assert second.registry.get_sample_value("atelier_refresh_total",
                                            {"outcome": "rotated"}) is None
    assert first.registry.get_sample_value("atelier_refresh_total",
                                           {"outcome": "rotated"}) == 1


def test_request_durations_fall_in_prometheus_buckets() -> None:
    metrics = PrometheusMetrics()
    for seconds in (0.005, 0.0051, 0.3, 60.0):  # `le` is inclusive; past the last: +Inf
        metrics.http_request("mobile_api", "/v1/api/me", "GET", 200, seconds)
    labels = {"entrypoint": "mobile_api", "route": "/v1/api/me", "method": "GET",
              "status": "200"}

    def bucket(le: str) -> float | None:
        return metrics.registry.get_sample_value(
            "atelier_http_request_duration_seconds_bucket", {**labels, "le": le})

    assert [bucket(le) for le in ("0.005", "0.01", "0.25", "0.5", "10.0", "+Inf")] == [
        1, 2, 2, 3, 3, 4]
    assert metrics.registry.get_sample_value(
        "atelier_http_request_duration_seconds_count", labels) == 4
    assert metrics.registry.get_sample_value(
        "atelier_http_request_duration_seconds_sum", labels) == 0.005 + 0.0051 + 0.3 + 60.0
