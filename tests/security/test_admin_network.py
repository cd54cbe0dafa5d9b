"""The admin API answers only allow-listed addresses; X-Forwarded-For counts only across
the trusted proxy hops, so a forged header gains nothing."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from adapters.sql.migrate import upgrade_database
from entrypoints.admin_api.network import AllowList
from tests.support.admin import ADMIN, AdminStack, running_admin_stack

StackFactory = Callable[..., AbstractAsyncContextManager[AdminStack]]


@pytest.fixture
async def make_stack(tmp_path: Path) -> AsyncIterator[StackFactory]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)

    def factory(**overrides: Any) -> AbstractAsyncContextManager[AdminStack]:
        return running_admin_stack(tmp_path / "data", url, **overrides)

    yield factory


def denied(response: Any) -> bool:
    return response.status_code == 403 and response.json()["error"]["code"] == "ip_not_allowed"


def test_allow_list_matches_v4_v6_and_mapped_addresses() -> None:
    allow = AllowList.parse("10.0.0.0/8, 192.168.1.7/32,2001:db8::/32,::1")
    assert allow.allows("10.200.3.4") and allow.allows("192.168.1.7")
    assert allow.allows("::ffff:10.1.1.1") and allow.allows("2001:db8::5") and allow.allows("::1")
    assert not allow.allows("192.168.1.8") and not allow.allows("11.0.0.1")
    assert not allow.allows("2001:db9::1") and not allow.allows("not-an-ip")
    assert not allow.allows("")


async def test_loopback_is_allowed_by_default(make_stack: StackFactory) -> None:
    async with make_stack() as stack:
        response = await stack.client.get(f"{ADMIN}/schema/openapi.json")
        assert response.status_code == 200


async def test_an_address_outside_the_list_is_refused_everywhere_and_logged(
    make_stack: StackFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    async with make_stack(admin_allowed_cidrs="10.0.0.0/8") as stack:
        with caplog.at_level(logging.WARNING, logger="atelier.admin.network"):
            for method, path in (("GET", "/users"), ("GET", "/schema/openapi.json"),
                                 ("POST", "/sessions"), ("GET", "/no-such-route")):
                response = await stack.client.request(method, f"{ADMIN}{path}")
                assert denied(response), (path, response.text)
        assert sum("admin request refused" in r.getMessage() for r in caplog.records) == 4
        # A forged header from the socket peer changes nothing when no proxy is trusted.
        forged = await stack.client.get(f"{ADMIN}/users",
                                        headers={"X-Forwarded-For": "10.0.0.1"})
        assert denied(forged)
        # The load balancer's health check stays open; the mobile API is not affected.
        assert (await stack.client.get(f"{ADMIN}/healthz")).status_code == 200
        assert (await stack.client.get("/healthz")).status_code == 200


async def test_behind_one_trusted_proxy_only_the_entry_it_appended_counts(
    make_stack: StackFactory,
) -> None:
    async with make_stack(admin_allowed_cidrs="10.0.0.0/8", trusted_proxy_hops=1) as stack:
        # The proxy (the socket peer here) appended the client it saw.
        allowed = await stack.client.get(f"{ADMIN}/schema/openapi.json",
                                         headers={"X-Forwarded-For": "10.1.2.3"})
        assert allowed.status_code == 200
        # A client outside the list wrote an allowed address first; the proxy appended
        # the real one.
        forged = await stack.client.get(f"{ADMIN}/schema/openapi.json",
                                        headers={"X-Forwarded-For": "10.1.2.3, 203.0.113.9"})
        assert denied(forged)
        for header in ("", "garbage", "10.1.2.3, not-an-ip"):
            # No usable entry: the peer (127.0.0.1, not listed) decides.
            response = await stack.client.get(f"{ADMIN}/schema/openapi.json",
                                              headers={"X-Forwarded-For": header})
            assert denied(response), header


async def test_the_audit_log_records_the_forwarded_client_address(
    make_stack: StackFactory,
) -> None:
    async with make_stack(admin_allowed_cidrs="10.0.0.0/8", trusted_proxy_hops=1) as stack:
        await stack.create_admin()
        via = {"X-Forwarded-For": "1.1.1.1, 10.9.8.7"}
        login = await stack.client.post(f"{ADMIN}/sessions", headers=via, json={
            "email": "root@atelier.test", "password": "admin-password-1"})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['token']}", **via}
        entries = (await stack.client.get(f"{ADMIN}/audit", headers=auth)).json()["entries"]
        assert entries[0]["action"] == "admin.login"
        assert entries[0]["source_ip"] == "10.9.8.7"
