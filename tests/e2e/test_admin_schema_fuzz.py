"""Schemathesis against the admin API's own OpenAPI document: generated requests to every
operation, with an admin token, never get a 5xx."""

from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from adapters.crypto.argon2_hasher import Argon2PasswordHasher
from adapters.sql.engine import create_engine
from adapters.sql.unit_of_work import sql_unit_of_work_factory
from application.admin.acting import Acting
from application.admin.local_admins import CreateLocalAdmin
from domain.admins.model import AdminIdentity, AdminSource
from domain.shared.clock import utcnow
from entrypoints.admin_api.app import ADMIN_PREFIX, create_app
from entrypoints.admin_api.container import AdminContainer
from entrypoints.wiring.infrastructure import Infrastructure
from tests.fixtures.postgres import run_async
from tests.support.admin import ADMIN_EMAIL, ADMIN_PASSWORD, settings_for
from tests.support.thread_server import serving_in_thread

pytestmark = pytest.mark.postgres
EXAMPLES_PER_OPERATION = 25


def create_admin(url: str) -> None:
    async def create() -> None:
        engine = create_engine(url)
        try:
            create = CreateLocalAdmin(
                sql_unit_of_work_factory(engine), Argon2PasswordHasher(1, 1024), utcnow)
            await create(Acting(AdminIdentity("fuzz", AdminSource.CLI)),
                         ADMIN_EMAIL, ADMIN_PASSWORD)
        finally:
            await engine.dispose()

    run_async(create)


def test_no_generated_request_gets_a_server_error(
    tmp_path: Path, postgres_url: str, pg_engine: Any,
) -> None:
    create_admin(postgres_url)
    config = settings_for(tmp_path / "data", postgres_url, rate_limit_default_per_minute=100_000,
                          rate_limit_sessions_per_minute=100_000)
    container = AdminContainer(infrastructure=Infrastructure(settings=config))
    with serving_in_thread(create_app(container)) as base_url:
        login = httpx.post(f"{base_url}{ADMIN_PREFIX}/sessions", json={
            "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        schema = schemathesis.openapi.from_url(f"{base_url}{ADMIN_PREFIX}/schema/openapi.json")
        failures: list[str] = []
        statuses: set[int] = set()
        operations = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck),
                      phases=[Phase.explicit, Phase.generate])
            def call(case: Any) -> None:
                response = case.call(base_url=base_url, headers=auth, timeout=30)
                statuses.add(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> "
                                    f"{response.status_code}: {response.text[:200]}")

            call()
    assert operations >= 12
    assert failures == []
    assert {200, 404, 422} <= statuses  # the token works; bad input is refused, not a 500
