"""Schemathesis (its own command) against the mobile API's OpenAPI document: no 5xx, and
every answer matches the documented status codes, content types and schemas."""

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.sql.migrate import upgrade_database
from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from tests.support.stack import CHEAP_HASHING
from tests.support.thread_server import serving_in_thread

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


@pytest.fixture(scope="module")
def mobile_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data_dir = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite+aiosqlite:///{data_dir / 'atelier.db'}"
    asyncio.run(upgrade_database(url))
    settings = Settings.model_validate({
        "data_dir": data_dir, "database_url": url, "keystore": "memory",
        "rate_limit_default_per_minute": 100_000, "rate_limit_guests_per_minute": 100_000,
        "rate_limit_sessions_per_minute": 100_000, "rate_limit_redeem_per_minute": 100_000,
        "rate_limit_redeem_global_per_hour": 1_000_000, **CHEAP_HASHING,
    })
    container = MobileContainer(infrastructure=Infrastructure(settings=settings))
    with serving_in_thread(create_app(container)) as base:
        guest = httpx.post(f"{base}/v1/api/guests",
                           json={"device_id": "IDFV-SCHEMATHESIS-01", "platform": "ios"})
        yield base, guest.json()["tokens"]["access_token"]


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is a dev dependency: run `uv sync`"
    return [found]


@pytest.mark.timeout(660)  # 30 examples of each of ~40 operations: minutes on a busy box
def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    mobile_api: tuple[str, str], tmp_path: Path
) -> None:
    base, token = mobile_api
    run = subprocess.run(
        [*schemathesis_command(), "run", f"{base}/v1/api/schema/openapi.json",
         "--checks", CHECKS, "--max-examples", "30", "--seed", "20261122",
         "--header", f"Authorization: Bearer {token}",
         # Logging the shared session out would turn every later call into a 401.
         "--exclude-path", "/v1/api/sessions/current",
         # Deleting the shared account would too (its own tests cover DELETE /me).
         "--exclude-name", "DELETE /v1/api/me",
         "--request-timeout", "20", "--workers", "1", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]


def test_the_schema_documents_every_identity_route(mobile_api: tuple[str, str]) -> None:
    base, _ = mobile_api
    paths = httpx.get(f"{base}/v1/api/schema/openapi.json").json()["paths"]
    for route in ("/v1/api/guests", "/v1/api/accounts", "/v1/api/accounts/confirm",
                  "/v1/api/accounts/merge-guest", "/v1/api/sessions", "/v1/api/sessions/refresh",
                  "/v1/api/sessions/current", "/v1/api/me", "/v1/api/me/devices",
                  "/v1/api/me/devices/{device_id}", "/v1/api/transfer-codes",
                  "/v1/api/transfer-codes/redeem", "/v1/api/realtime/token"):
        assert route in paths, route
