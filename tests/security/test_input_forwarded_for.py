"""X-Forwarded-For sent as several header lines is one list (the lines joined in order), as
a proxy that adds its own line means it. Reading only the first line let a client's own line
stand in for what the trusted proxy appended, and pass the admin allow-list."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from litestar.connection import ASGIConnection

from adapters.sql.migrate import upgrade_database
from entrypoints.http_edge.client_ip import client_ip
from tests.support.admin import ADMIN, AdminStack, running_admin_stack

StackFactory = Callable[..., AbstractAsyncContextManager[AdminStack]]
SCHEMA = f"{ADMIN}/schema/openapi.json"


def connection(*forwarded: str, peer: str = "192.0.2.1") -> ASGIConnection[Any, Any, Any, Any]:
    headers = [(b"x-forwarded-for", line.encode()) for line in forwarded]
    return ASGIConnection({"type": "http", "headers": [(b"host", b"x"), *headers],  # type: ignore[typeddict-item]
                           "client": (peer, 4711)})


@pytest.mark.parametrize(("lines", "hops", "seen"), [
    (["10.1.2.3", "203.0.113.9"], 1, "203.0.113.9"),
    (["203.0.113.9", "10.1.2.3"], 1, "10.1.2.3"),
    (["1.1.1.1, 10.1.2.3", "198.51.100.7"], 2, "10.1.2.3"),
    (["1.1.1.1", "10.1.2.3", "198.51.100.7"], 3, "1.1.1.1"),
    (["", "10.1.2.3"], 1, "10.1.2.3"),
    (["10.1.2.3", ""], 1, "10.1.2.3"),
    (["10.1.2.3", "garbage"], 1, "192.0.2.1"),
    (["10.1.2.3"], 2, "192.0.2.1"),
])
def test_every_header_line_counts_in_order(lines: list[str], hops: int, seen: str) -> None:
    assert client_ip(connection(*lines), hops) == seen


@pytest.fixture
async def make_stack(tmp_path: Path) -> AsyncIterator[StackFactory]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)

    def factory(**overrides: Any) -> AbstractAsyncContextManager[AdminStack]:
        return running_admin_stack(tmp_path / "data", url, **overrides)

    yield factory


def status_and_code(response: Any) -> tuple[int, str | None]:
    body = response.json()
    return response.status_code, body.get("error", {}).get("code") if "error" in body else None


async def test_a_second_header_line_cannot_smuggle_an_allowed_address_past_the_gate(
    make_stack: StackFactory,
) -> None:
    async with make_stack(admin_allowed_cidrs="10.0.0.0/8", trusted_proxy_hops=1) as stack:
        # The client wrote an allowed address on its own line; the proxy added the real one.
        forged = await stack.client.get(SCHEMA, headers=[
            ("X-Forwarded-For", "10.1.2.3"), ("X-Forwarded-For", "203.0.113.9")])
        assert status_and_code(forged) == (403, "ip_not_allowed")
        # The same proxy relaying an allowed client that sent a forged line of its own.
        allowed = await stack.client.get(SCHEMA, headers=[
            ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-For", "10.1.2.3")])
        assert allowed.status_code == 200


async def test_two_trusted_hops_read_across_header_lines(make_stack: StackFactory) -> None:
    async with make_stack(admin_allowed_cidrs="10.0.0.0/8", trusted_proxy_hops=2) as stack:
        # CloudFront appended the client (10.1.2.3) to the client's header; the ALB added a
        # line with CloudFront's address.
        allowed = await stack.client.get(SCHEMA, headers=[
            ("X-Forwarded-For", "1.1.1.1, 10.1.2.3"), ("X-Forwarded-For", "198.51.100.7")])
        assert allowed.status_code == 200
        forged = await stack.client.get(SCHEMA, headers=[
            ("X-Forwarded-For", "10.1.2.3, 203.0.113.9"), ("X-Forwarded-For", "198.51.100.7")])
        assert status_and_code(forged) == (403, "ip_not_allowed")
