"""The edge gateway on its own serves its metrics: handshakes accepted, or refused with a
reason from a fixed list, sockets open going up and down, messages delivered, JWKS fetches."""

import asyncio
import time
from typing import Any

from adapters.memory.bus import InMemoryRealtimeBus
from entrypoints.edge_gateway.admission import REFUSAL_REASONS
from tests.support.gateway import (
    CountingOrigin,
    claims,
    gateway_settings,
    handshake,
    new_key,
    next_frame,
    running_gateway,
    sign,
    socket,
)
from tests.support.metrics import Samples, free_port, label_values, scrape, value
from tests.support.server import serving

HANDSHAKES = "atelier_gateway_handshakes_total"


async def settled(port: int, name: str, expected: float, **labels: str) -> Samples:
    deadline = time.monotonic() + 10
    while True:
        samples = await scrape(port)
        if value(samples, name, **labels) == expected or time.monotonic() > deadline:
            assert value(samples, name, **labels) == expected, (name, labels)
            return samples
        await asyncio.sleep(0.05)


async def test_handshakes_sockets_and_deliveries_are_counted() -> None:
    key, stranger = new_key(), new_key()
    bus, metrics_port = InMemoryRealtimeBus(), free_port()
    settings: dict[str, Any] = {"metrics_port": metrics_port,
                                "gateway_max_sockets_per_token": 1,
                                "jwks_refetch_cooldown_seconds": 0}
    async with (
        serving(CountingOrigin(keys=[key])) as origin_url,
        running_gateway(gateway_settings(origin_url + "/jwks", **settings), bus) as (url, _),
    ):
        token = sign(key, claims("ada"))
        async with socket(url, token) as ws:
            await settled(metrics_port, "atelier_gateway_sockets_open", 1)
            assert await handshake(url, token) == 429  # this token's one socket is open
            await bus.publish("user:ada", {"type": "image.ready"})
            assert (await next_frame(ws))["data"] == {"type": "image.ready"}
        assert await handshake(url, sign(key, claims(exp=int(time.time()) - 60))) == 403
        assert await handshake(url, sign(stranger, claims())) == 403
        for forged in ("not-a-token", "a.b.c", ""):
            assert await handshake(url, forged) == 403
        samples = await settled(metrics_port, "atelier_gateway_sockets_open", 0)

    assert value(samples, HANDSHAKES, outcome="accepted", reason="none") == 1
    refused = {reason: value(samples, HANDSHAKES, outcome="refused", reason=reason)
               for reason in label_values(samples, HANDSHAKES, "reason", {"outcome": "refused"})}
    assert refused == {"too_many_sockets_per_token": 1, "token_expired": 1, "unknown_kid": 1,
                       "invalid_token": 3}
    assert set(refused) <= set(REFUSAL_REASONS)
    assert value(samples, "atelier_gateway_messages_delivered_total") == 1
    assert value(samples, "atelier_gateway_slow_consumers_closed_total") == 0
    # the first set, and one refetch for the stranger's kid
    assert value(samples, "atelier_jwks_fetches_total", outcome="ok") == 2


async def test_a_failed_jwks_fetch_is_counted() -> None:
    metrics_port = free_port()
    async with (
        serving(CountingOrigin(status=500)) as origin_url,
        running_gateway(gateway_settings(origin_url + "/jwks", metrics_port=metrics_port)),
    ):
        deadline = time.monotonic() + 10
        while not value(samples := await scrape(metrics_port), "atelier_jwks_fetches_total",
                        outcome="failed"):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    assert value(samples, "atelier_jwks_fetches_total", outcome="ok") == 0
