"""The Cognito trigger handlers on recorded-shape events, against the real PostgreSQL."""

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sql.tables import users
from domain.shared.clock import utcnow
from entrypoints.lambdas import bootstrap
from entrypoints.lambdas.cognito_triggers import SignUpRefused, post_confirmation, pre_sign_up
from tests.fixtures.postgres import run_async
from tests.support.lambda_events import event

pytestmark = pytest.mark.postgres

SUB = "8f0c3f9e-2a4b-4d3e-9b0e-7a1d2c3b4e5f"


@pytest.fixture
def database(postgres_url: str, pg_engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    bootstrap.reset()
    yield postgres_url
    bootstrap.reset()


def rows(url: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                result = await connection.execute(select(users))
                return [dict(row) for row in result.mappings()]
        finally:
            await engine.dispose()

    return run_async(read)


def test_pre_sign_up_accepts_a_valid_address_and_returns_the_event() -> None:
    incoming = event("pre_sign_up")
    assert pre_sign_up(incoming, None) is incoming
    assert incoming["response"] == {
        "autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}


def test_pre_sign_up_refuses_blocked_domains_and_their_subdomains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATELIER_BLOCKED_EMAIL_DOMAINS", "mailinator.com, yopmail.com")
    for address in ("x@mailinator.com", "x@eu.Mailinator.com", "x@yopmail.com"):
        with pytest.raises(SignUpRefused, match="not accepted"):
            pre_sign_up(event("pre_sign_up", email=address), None)
    pre_sign_up(event("pre_sign_up", email="x@notmailinator.com"), None)


def test_pre_sign_up_refuses_an_invalid_address() -> None:
    with pytest.raises(SignUpRefused):
        pre_sign_up(event("pre_sign_up", email="not-an-address"), None)


def test_post_confirmation_creates_one_confirmed_member_even_when_delivered_twice(
    database: str,
) -> None:
    incoming = event("post_confirmation", sub=SUB, email="Ada@Example.com")
    assert post_confirmation(incoming, None) is incoming
    post_confirmation(json.loads(json.dumps(incoming)), None)
    found = rows(database)
    assert len(found) == 1
    user = found[0]
    assert (user["external_id"], user["email"], user["kind"], user["email_confirmed"]) == (
        SUB, "ada@example.com", "member", True)


def test_post_confirmation_confirms_the_row_the_api_registered(database: str) -> None:
    async def registered() -> None:
        engine = create_async_engine(database, poolclass=NullPool)
        now = utcnow()
        async with engine.begin() as connection:
            await connection.execute(insert(users).values(
                id="u-registered", kind="member", status="active", email="ada@example.com",
                email_confirmed=False, external_id=SUB, display_name=None,
                notify_by_email=False, created_at=now, last_seen_at=now, version=0))
        await engine.dispose()

    run_async(registered)
    post_confirmation(event("post_confirmation", sub=SUB), None)
    [user] = rows(database)
    assert (user["id"], user["email_confirmed"]) == ("u-registered", True)


def test_forgot_password_confirmation_changes_nothing(database: str) -> None:
    incoming = event("post_confirmation", sub=SUB)
    incoming["triggerSource"] = "PostConfirmation_ConfirmForgotPassword"
    post_confirmation(incoming, None)
    assert rows(database) == []


def test_the_engine_is_built_once_and_reused_across_warm_invocations(database: str) -> None:
    post_confirmation(event("post_confirmation", sub=SUB), None)
    engine = bootstrap._state["engine"]
    post_confirmation(event("post_confirmation", sub="other-sub", email="bo@example.com"), None)
    assert bootstrap._state["engine"] is engine
    assert len(rows(database)) == 2


def test_the_handler_module_imports_no_web_framework() -> None:
    import subprocess

    script = (
        "import sys, entrypoints.lambdas.cognito_triggers\n"
        "heavy = ('litestar', 'pydantic', 'pydantic_settings', 'msgspec', 'httpx', 'aioboto3',"
        " 'boto3', 'sqlalchemy', 'uvicorn', 'dependency_injector')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"

