"""The image worker beside a test stack, and phone-side helpers for images."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from dependency_injector import providers

from application.ports.messaging import BusMessage
from entrypoints.image_worker.container import WorkerContainer
from entrypoints.image_worker.worker import ImageWorker
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.lifespan import running
from entrypoints.wiring.settings import Settings
from tests.support.phone import API, bearer

FAST = {"outbox_poll_seconds": 0.05, "worker_wait_seconds": 1.0, "job_retry_base_seconds": 0.1}


class RecordingBus:
    """A RealtimeBus that remembers what was published."""

    def __init__(self) -> None:
        self.published: list[BusMessage] = []

    async def publish(
        self, channel: str, data: dict[str, Any], traceparent: str | None = None
    ) -> None:
        self.published.append(BusMessage(channel, data, traceparent))

    async def listen(self) -> AsyncIterator[BusMessage]:
        raise NotImplementedError
        yield  # pragma: no cover

    @property
    def healthy(self) -> bool:
        return True

    def ready_for(self, image_id: str) -> list[dict[str, Any]]:
        return [m.data for m in self.published
                if m.data.get("type") == "image.ready" and m.data.get("id") == image_id]

    async def wait_ready(
        self, image_id: str, timeout: float = 10.0, settle: float = 0.3
    ) -> list[dict[str, Any]]:
        """The image.ready events once the first has come (the outbox relay publishes
        after the commit that made the image ready), plus any within `settle` after it."""
        deadline = time.monotonic() + timeout
        while not self.ready_for(image_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(settle)
        return self.ready_for(image_id)


@asynccontextmanager
async def running_worker(
    settings: Settings, bus: RecordingBus | None = None, **overrides: Any
) -> AsyncIterator[WorkerContainer]:
    infrastructure = Infrastructure(settings=settings)
    if bus is not None:
        infrastructure.bus.override(providers.Object(bus))
    for name, provider in overrides.items():
        getattr(infrastructure, name).override(provider)
    container = WorkerContainer(infrastructure=infrastructure)
    async with running(container) as resolved:
        worker: ImageWorker = resolved.value("worker")
        async with worker.running():
            yield container


async def request_image(
    client: httpx.AsyncClient, tokens: dict[str, Any], prompt: str = "a red fox",
    key: str | None = None, **options: Any,
) -> httpx.Response:
    headers = bearer(tokens)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(f"{API}/images", headers=headers, json={"prompt": prompt, **options})


async def wait_for_status(
    client: httpx.AsyncClient, tokens: dict[str, Any], image_id: str,
    statuses: tuple[str, ...] = ("ready", "failed"), timeout: float = 30.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"{API}/images/{image_id}", headers=bearer(tokens))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in statuses:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"image {image_id} still {body['status']} after {timeout} s")
        await asyncio.sleep(0.05)
