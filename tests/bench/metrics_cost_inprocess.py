"""One variant of tests/bench/bench_metrics_cost.py measured in-process: the mobile API's
ASGI app called directly (no sockets, no wrk), this process's CPU time per `/me` and per
refresh. Settings come from the environment; prints one JSON line."""

import asyncio
import json
import os
import secrets
import sys
import time

from litestar.testing import AsyncTestClient

from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from entrypoints.wiring.tracing import install_tracing

ME_CALLS, REFRESH_CALLS, SESSIONS = int(sys.argv[1]), int(sys.argv[2]), 32


async def main() -> None:
    settings = Settings()
    install_tracing(settings, "atelier-mobile-api")  # ATELIER_TRACING_ENABLED=false: off
    app = create_app(MobileContainer(infrastructure=Infrastructure(settings=settings)))
    async with AsyncTestClient(app=app) as client:
        sessions = []
        for _ in range(SESSIONS):
            device = f"IDFV-BENCH-{secrets.token_hex(6)}"
            body = (await client.post("/v1/api/guests", json={
                "device_id": device, "platform": "ios"})).json()
            sessions.append((body["tokens"], device))
        for tokens, _ in sessions:  # warm: first use of each session, caches, code paths
            await client.get("/v1/api/me", headers={
                "Authorization": f"Bearer {tokens['access_token']}"})
        started = time.process_time()
        for index in range(ME_CALLS):
            tokens = sessions[index % SESSIONS][0]
            response = await client.get("/v1/api/me", headers={
                "Authorization": f"Bearer {tokens['access_token']}"})
            assert response.status_code == 200, response.text
        me = (time.process_time() - started) / max(ME_CALLS, 1)
        started = time.process_time()
        for index in range(REFRESH_CALLS):
            tokens, device = sessions[index % SESSIONS]
            response = await client.post("/v1/api/sessions/refresh", json={
                "refresh_token": tokens["refresh_token"], "device_id": device})
            assert response.status_code == 200, response.text
            sessions[index % SESSIONS] = (response.json()["tokens"], device)
        refresh = (time.process_time() - started) / max(REFRESH_CALLS, 1)
    print(json.dumps({"me_us": me * 1e6, "refresh_us": refresh * 1e6}))


if __name__ == "__main__":
    os.environ.setdefault("ATELIER_LOG_LEVEL", "WARNING")
    asyncio.run(main())
