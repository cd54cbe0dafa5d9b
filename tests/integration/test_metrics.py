"""Prometheus metrics of the mobile API: on their own port, never on the public one, by route
template and status, with label values that stay few whatever the paths requested."""

import asyncio
import uuid
from pathlib import Path

import pytest

from application.ports.metrics import REFRESH_OUTCOMES
from tests.support.images import FAST, request_image, running_worker, wait_for_status
from tests.support.metrics import free_port, label_values, scrape, value
from tests.support.phone import API, bearer, device_id, new_guest
from tests.support.stack import running_stack

DURATION = "atelier_http_request_duration_seconds"


@pytest.fixture
def metrics_port() -> int:
    return free_port()


async def test_requests_are_measured_by_route_template_and_status(
    tmp_path: Path, sqlite_url: str, metrics_port: int
) -> None:
    async with running_stack(tmp_path, sqlite_url, metrics_port=metrics_port) as stack:
        guest = await new_guest(stack.client)
        for _ in range(3):
            assert (await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))
                    ).status_code == 200
        missing = await stack.client.get(f"{API}/images/{uuid.uuid4()}",
                                         headers=bearer(guest["tokens"]))
        assert missing.status_code == 404
        samples = await scrape(metrics_port)

    def count(route: str, method: str, status: str) -> float:
        return value(samples, f"{DURATION}_count", entrypoint="mobile_api", route=route,
                     method=method, status=status)

    assert count(f"{API}/guests", "POST", "201") == 1
    assert count(f"{API}/me", "GET", "200") == 3
    image_routes = label_values(samples, f"{DURATION}_count", "route",
                                {"method": "GET", "status": "404"})
    assert len(image_routes) == 1 and image_routes.pop().startswith(f"{API}/images/{{image_id")
    assert value(samples, f"{DURATION}_sum", entrypoint="mobile_api", route=f"{API}/me",
                 method="GET", status="200") > 0


async def test_metrics_are_not_on_the_public_port(
    tmp_path: Path, sqlite_url: str, metrics_port: int
) -> None:
    async with running_stack(tmp_path, sqlite_url, metrics_port=metrics_port) as stack:
        for path in ("/metrics", "/metrics/", f"{API}/metrics"):
            assert (await stack.client.get(path)).status_code == 404
        samples = await scrape(metrics_port)
    assert value(samples, f"{DURATION}_count", entrypoint="mobile_api", route="unmatched",
                 method="GET", status="404") == 3


async def test_many_raw_paths_make_one_label_value(
    tmp_path: Path, sqlite_url: str, metrics_port: int
) -> None:
    async with running_stack(tmp_path, sqlite_url, metrics_port=metrics_port) as stack:
        guest = await new_guest(stack.client)
        for index in range(40):
            await stack.client.get(f"{API}/no/such/{index}")
            await stack.client.get(f"{API}/images/{uuid.uuid4()}",
                                   headers=bearer(guest["tokens"]))
            await stack.client.request("BREW", f"{API}/me")
        samples = await scrape(metrics_port)
    routes = label_values(samples, f"{DURATION}_count", "route")
    assert len(routes) <= 4, routes  # guests, unmatched, the image template, and /me
    assert label_values(samples, f"{DURATION}_count", "method") <= {"GET", "POST", "OTHER"}
    assert value(samples, f"{DURATION}_count", entrypoint="mobile_api", route="unmatched",
                 method="GET", status="404") == 40


async def test_metrics_port_zero_serves_nothing(tmp_path: Path, sqlite_url: str) -> None:
    port = free_port()
    async with running_stack(tmp_path, sqlite_url, metrics_port=0) as stack:
        assert (await stack.client.get(f"{API}/me")).status_code == 401
        import httpx
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(trust_env=False) as client:
                await client.get(f"http://127.0.0.1:{port}/metrics")


async def test_refresh_outcomes_are_counted_by_a_fixed_list(
    tmp_path: Path, sqlite_url: str, metrics_port: int
) -> None:
    async with running_stack(tmp_path, sqlite_url, metrics_port=metrics_port,
                             reuse_interval_seconds=0) as stack:
        async def refresh(token: str, device: str) -> int:
            response = await stack.client.post(f"{API}/sessions/refresh", json={
                "refresh_token": token, "device_id": device})
            return response.status_code

        device, other_device = device_id(), device_id()
        first = (await new_guest(stack.client, device))["tokens"]["refresh_token"]
        assert await refresh(first, device) == 200          # rotated
        assert await refresh(first, device) == 401          # reused: the family ends
        assert await refresh(first, device) == 401          # revoked
        second = (await new_guest(stack.client, device))["tokens"]["refresh_token"]
        assert await refresh(second, other_device) == 401   # device_mismatch
        for index in range(5):
            assert await refresh(f"forged-{index}", device) == 401  # invalid
        samples = await scrape(metrics_port)

    counted = {outcome: value(samples, "atelier_refresh_total", outcome=outcome)
               for outcome in label_values(samples, "atelier_refresh_total", "outcome")}
    assert counted == {"rotated": 1, "reused": 1, "revoked": 1, "device_mismatch": 1,
                       "invalid": 5}
    assert set(counted) <= set(REFRESH_OUTCOMES)


async def test_a_retry_inside_the_reuse_interval_counts_as_raced_and_a_late_one_as_expired(
    tmp_path: Path, sqlite_url: str, metrics_port: int
) -> None:
    async with running_stack(tmp_path, sqlite_url, metrics_port=metrics_port,
                             refresh_token_ttl_days=2 / 86400) as stack:
        async def refresh(token: str, device: str) -> int:
            response = await stack.client.post(f"{API}/sessions/refresh", json={
                "refresh_token": token, "device_id": device})
            return response.status_code

        device = device_id()
        token = (await new_guest(stack.client, device))["tokens"]["refresh_token"]
        assert await refresh(token, device) == 200  # rotated
        assert await refresh(token, device) == 200  # the same token again, at once: raced
        await asyncio.sleep(2.5)                    # the family's two seconds are over
        assert await refresh(token, device) == 401  # expired
        samples = await scrape(metrics_port)
    assert {outcome: value(samples, "atelier_refresh_total", outcome=outcome)
            for outcome in ("rotated", "raced", "expired")} == {
        "rotated": 1, "raced": 1, "expired": 1}


async def test_the_worker_serves_its_own_metrics_beside_the_api(
    tmp_path: Path, sqlite_url: str, metrics_port: int
) -> None:
    worker_port = free_port()
    async with running_stack(tmp_path, sqlite_url, metrics_port=metrics_port, **FAST) as stack:
        worker_settings = stack.settings.model_copy(update={"metrics_port": worker_port})
        async with running_worker(worker_settings):
            tokens = (await new_guest(stack.client))["tokens"]
            created = await request_image(stack.client, tokens)
            assert created.status_code == 202, created.text
            assert (await wait_for_status(stack.client, tokens, created.json()["id"])
                    )["status"] == "ready"
            worker, api = await scrape(worker_port), await scrape(metrics_port)

    assert value(worker, "atelier_jobs_total", outcome="ready") == 1
    assert value(worker, "atelier_generation_seconds_count") == 1
    assert value(worker, "atelier_queue_depth", queue="jobs") == 0
    assert label_values(worker, f"{DURATION}_count", "route") == set()  # no HTTP in a worker
    assert value(api, "atelier_jobs_total", outcome="ready") == 0  # each process its own
    assert value(api, f"{DURATION}_count", entrypoint="mobile_api", route=f"{API}/images",
                 method="POST", status="202") == 1
    assert ("atelier_outbox_lag_seconds", frozenset()) in api
