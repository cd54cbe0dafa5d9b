"""`atelier dev` (the embedded default: every app, the worker and retention in one process)
serves one merged set of metrics on one metrics port: HTTP requests of the mobile and admin
APIs, an image job's outcome and generation time, the queue's depth, the outbox lag, and
the gateway's handshakes and open sockets."""

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from entrypoints.dev.app import create_dev_app
from entrypoints.wiring.settings import Settings
from tests.e2e.test_account_deletion import serving_on
from tests.support.images import FAST, request_image, wait_for_status
from tests.support.metrics import Samples, free_port, scrape, scrape_text, value
from tests.support.phone import API, bearer, device_id, new_guest
from tests.support.stack import CHEAP_HASHING

REPORT = Path(__file__).resolve().parents[2] / ".atelier" / "tmp" / "metrics_dev_scrape.txt"


async def eventually(metrics_port: int, name: str, expected: float, **labels: str) -> Samples:
    """Sockets close and counters move a moment after the client sees the result."""
    deadline = time.monotonic() + 10
    while True:
        samples = await scrape(metrics_port)
        if value(samples, name, **labels) == expected or time.monotonic() > deadline:
            assert value(samples, name, **labels) == expected, (name, labels)
            return samples
        await asyncio.sleep(0.05)


async def test_atelier_dev_serves_one_merged_set_of_metrics(
    tmp_path: Path, sqlite_url: str
) -> None:
    port, metrics_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings.model_validate({
        "data_dir": tmp_path / "data", "database_url": sqlite_url, "public_url": base,
        "issuer": base,
        "metrics_port": metrics_port, **CHEAP_HASHING, **FAST})
    async with (
        serving_on(create_dev_app(settings), port),
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        device = device_id()
        guest = await new_guest(client, device)
        tokens = guest["tokens"]

        # one image on the embedded default: the local queue, the worker, Pillow
        created = await request_image(client, tokens)
        assert created.status_code == 202, created.text
        image = await wait_for_status(client, tokens, created.json()["id"])
        assert image["status"] == "ready"
        samples = await eventually(metrics_port, "atelier_jobs_total", 1, outcome="ready")
        assert value(samples, "atelier_generation_seconds_count") == 1
        assert 0 < value(samples, "atelier_generation_seconds_sum") < 30
        assert value(samples, "atelier_queue_depth", queue="jobs") == 0
        assert value(samples, "atelier_queue_depth", queue="dead_letters") == 0
        assert ("atelier_outbox_lag_seconds", frozenset()) in samples
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(await scrape_text(metrics_port))

        # a refresh, and the admin API on the same port
        refreshed = await client.post(f"{API}/sessions/refresh", json={
            "refresh_token": tokens["refresh_token"], "device_id": device})
        assert refreshed.status_code == 200, refreshed.text
        assert (await client.get("/v1/api/admin/users")).status_code == 401
        # the console answers every other path, /metrics included: never the metrics
        for path in ("/metrics", "/v1/metrics"):
            public = await client.get(path)
            assert public.status_code == 404 and "atelier_" not in public.text

        # the gateway: one socket accepted and open, one refused for its token
        issued = (await client.post(f"{API}/realtime/token",
                                    headers=bearer(refreshed.json()["tokens"]))).json()
        async with connect(f"{issued['url']}?token={issued['token']}"):
            samples = await eventually(metrics_port, "atelier_gateway_sockets_open", 1)
            assert value(samples, "atelier_gateway_handshakes_total",
                         outcome="accepted", reason="none") == 1
        with pytest.raises(InvalidStatus):
            async with connect(f"{issued['url']}?token=not.a.token"):
                pass
        samples = await eventually(metrics_port, "atelier_gateway_sockets_open", 0)

    assert value(samples, "atelier_gateway_handshakes_total",
                 outcome="refused", reason="invalid_token") == 1
    assert value(samples, "atelier_refresh_total", outcome="rotated") == 1
    assert value(samples, "atelier_http_request_duration_seconds_count", entrypoint="mobile_api",
                 route=f"{API}/images", method="POST", status="202") == 1
    assert value(samples, "atelier_http_request_duration_seconds_count", entrypoint="admin_api",
                 route="/v1/api/admin/users", method="GET", status="401") == 1
    assert value(samples, "atelier_http_request_duration_seconds_count", entrypoint="console",
                 route="unmatched", method="GET", status="404") == 2
    # the origin's keys read in-process by the gateway: one good fetch, none failed
    assert value(samples, "atelier_jwks_fetches_total", outcome="ok") >= 1
    assert value(samples, "atelier_jwks_fetches_total", outcome="failed") == 0
