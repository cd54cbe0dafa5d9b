"""What tracing without an exporter costs `/me` and refresh, in one process: the mobile API's
ASGI app (on the database DATABASE_URL names) called directly, with the process's tracer
provider switched between rounds, so every variant meets the same load on a shared machine:

    off            no provider (ATELIER_TRACING_ENABLED=false: the middleware steps aside)
    ids only       tracing on, no OTEL_EXPORTER_OTLP_ENDPOINT (the default)
    SDK unsampled  the SDK's never-sampling provider, what the default used to be

Medians over rounds of this process's CPU time per request, and each variant's ratio to
`off`. Run by tests/bench/bench_tracing_cost.py, which makes the database.
"""

import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from typing import Any

from litestar.testing import AsyncTestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import entrypoints.http_edge.tracing as http_tracing
from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from entrypoints.wiring.tracing import IdsOnlyTracerProvider

ROUNDS, ME, REFRESH = (int(a) for a in sys.argv[1:4])
SESSIONS = 32
PROVIDERS: dict[str, Any] = {
    "off": None, "ids only": IdsOnlyTracerProvider(),
    "SDK unsampled": TracerProvider(sampler=ALWAYS_OFF)}


def use(provider: Any) -> None:
    trace._TRACER_PROVIDER = provider  # what the process decides once at start-up
    tracer = (provider or PROVIDERS["ids only"]).get_tracer("atelier")
    setattr(http_tracing, "tracer", lambda: tracer)  # noqa: B010


async def main() -> None:
    app = create_app(MobileContainer(infrastructure=Infrastructure(settings=Settings())))
    found: dict[str, dict[str, list[float]]] = {n: {"me": [], "refresh": []} for n in PROVIDERS}
    async with AsyncTestClient(app=app) as client:
        sessions = []
        for _ in range(SESSIONS):
            device = f"IDFV-BENCH-{secrets.token_hex(6)}"
            body = (await client.post("/v1/api/guests", json={
                "device_id": device, "platform": "ios"})).json()
            sessions.append((body["tokens"], device))
        for round_ in range(ROUNDS + 1):  # round 0 warms every code path and is dropped
            names = list(PROVIDERS)
            for name in names[round_ % 3:] + names[:round_ % 3]:
                use(PROVIDERS[name])
                started = time.process_time()
                for index in range(ME):
                    tokens = sessions[index % SESSIONS][0]
                    response = await client.get("/v1/api/me", headers={
                        "Authorization": f"Bearer {tokens['access_token']}"})
                    assert response.status_code == 200, response.text
                me = (time.process_time() - started) / ME
                started = time.process_time()
                for index in range(REFRESH):
                    tokens, device = sessions[index % SESSIONS]
                    response = await client.post("/v1/api/sessions/refresh", json={
                        "refresh_token": tokens["refresh_token"], "device_id": device})
                    assert response.status_code == 200, response.text
                    sessions[index % SESSIONS] = (response.json()["tokens"], device)
                refresh = (time.process_time() - started) / REFRESH
                if round_:
                    found[name]["me"].append(me * 1e6)
                    found[name]["refresh"].append(refresh * 1e6)
    medians = {name: {op: statistics.median(v) for op, v in ops.items()}
               for name, ops in found.items()}
    print(json.dumps({
        "cpu_us_per_request": {n: {op: round(v, 1) for op, v in ops.items()}
                               for n, ops in medians.items()},
        "vs_off": {f"{op}/{name}": round(medians[name][op] / medians["off"][op], 3)
                   for name in PROVIDERS if name != "off" for op in ("me", "refresh")},
        "rounds": ROUNDS, "per_round": {"me": ME, "refresh": REFRESH},
    }))


if __name__ == "__main__":
    os.environ.setdefault("ATELIER_LOG_LEVEL", "WARNING")
    asyncio.run(main())
