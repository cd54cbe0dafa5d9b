"""A body that is not JSON is a 400 `invalid_json` on every route of both APIs that reads a
body, however it is broken: nested past the decoder's depth limit, invalid UTF-8 inside a
string, or plain garbage. Never a 500, never a traceback in the log."""

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.sql.migrate import upgrade_database
from tests.support.admin import ADMIN, AdminStack, running_admin_stack
from tests.support.phone import API, bearer, new_guest

MALFORMED = {
    "nested 1,000 deep (array)": b"[" * 1000 + b"]" * 1000,
    "nested 1,000 deep (object)": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "nested 100,000 deep": b"[" * 100_000,
    "invalid UTF-8 in a string": b'{"email": "\xff\xfe@example.com", "password": "x"}',
    "invalid UTF-8 in a key": b'{"\xc3\x28": 1}',
    "a lone surrogate escape": b'{"email": "\\ud800@example.com"}',
    "invalid UTF-8 outside strings": b"\xff\xfe{}",
    "truncated": b'{"email": "a@example.com", ',
}
# Escaped surrogates are valid JSON syntax; the field then fails validation (422).
NOT_JSON_SYNTAX_ERRORS = {"a lone surrogate escape"}


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[AdminStack]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    async with running_admin_stack(tmp_path / "data", url,
                                   rate_limit_default_per_minute=100_000,
                                   rate_limit_sessions_per_minute=100_000,
                                   rate_limit_guests_per_minute=100_000,
                                   rate_limit_redeem_per_minute=100_000) as running:
        yield running


async def operations_with_a_body(stack: AdminStack, schema_url: str) -> list[tuple[str, str]]:
    paths = (await stack.client.get(schema_url)).json()["paths"]
    found = [(method.upper(), re.sub(r"\{[^}]+\}", "IDFV-0123456789AB", path))
             for path, operations in paths.items()
             for method, operation in operations.items() if "requestBody" in operation]
    assert found
    return found


async def test_every_route_that_reads_a_body_answers_invalid_json(
    stack: AdminStack, caplog: pytest.LogCaptureFixture,
) -> None:
    member_headers = bearer((await new_guest(stack.client))["tokens"])
    admin_headers = await stack.logged_in_admin()
    routes = [(*op, member_headers) for op in
              await operations_with_a_body(stack, f"{API}/schema/openapi.json")]
    routes += [(*op, admin_headers) for op in
               await operations_with_a_body(stack, f"{ADMIN}/schema/openapi.json")]
    assert len(routes) >= 12
    wrong: list[str] = []
    with caplog.at_level(logging.ERROR):
        for method, path, headers in routes:
            for name, body in MALFORMED.items():
                response = await stack.client.request(
                    method, path, content=body,
                    headers={**headers, "Content-Type": "application/json"})
                expected = ((422, "invalid_request") if name in NOT_JSON_SYNTAX_ERRORS
                            else (400, "invalid_json"))
                got: tuple[int, Any] = (response.status_code, None)
                if response.headers.get("content-type", "").startswith("application/json"):
                    got = (response.status_code, response.json().get("error", {}).get("code"))
                acceptable = {expected, (413, "payload_too_large")}  # over a route's size cap
                if name in NOT_JSON_SYNTAX_ERRORS:
                    acceptable.add((400, "invalid_json"))
                if got not in acceptable:
                    wrong.append(f"{method} {path} [{name}] -> {got}")
    assert wrong == [], "\n".join(wrong)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
