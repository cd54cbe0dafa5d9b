"""PostgreSQL unreachable: the API answers 503 `unavailable` with Retry-After, never a 500
(both the SQLAlchemy path and the refresh's driver path), while /healthz stays alive."""

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.phone import new_guest
from tests.support.stack import running_stack


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


@pytest.mark.postgres
async def test_a_database_outage_is_a_retryable_503(tmp_path: Path, postgres_url: str) -> None:
    down = make_url(postgres_url).set(host="127.0.0.1", port=_closed_port())
    async with running_stack(tmp_path, down.render_as_string(hide_password=False)) as stack:
        for method, path, body in (
            ("POST", "/v1/api/guests", {"device_id": "IDFV-DOWN-000001", "platform": "ios"}),
            ("POST", "/v1/api/sessions/refresh",
             {"refresh_token": "x" * 43, "device_id": "IDFV-DOWN-000001"}),
        ):
            response = await stack.client.request(method, path, json=body)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["error"]["code"] == "unavailable"
            assert int(response.headers["Retry-After"]) > 0
        assert (await stack.client.get("/readyz")).status_code == 503
        assert (await stack.client.get("/healthz")).status_code == 200


@pytest.mark.postgres
async def test_the_same_routes_work_on_a_reachable_database(
    tmp_path: Path, postgres_url: str, pg_engine: object
) -> None:
    """The control for the test above: same stack, the real address."""
    async with running_stack(tmp_path, postgres_url) as stack:
        guest = await new_guest(stack.client, "IDFV-UP-00000001")
        refreshed = await stack.client.post("/v1/api/sessions/refresh", json={
            "refresh_token": guest["tokens"]["refresh_token"], "device_id": "IDFV-UP-00000001"})
        assert refreshed.status_code == 200
