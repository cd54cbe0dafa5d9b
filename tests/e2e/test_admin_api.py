"""The admin API over HTTP beside the mobile API (as `atelier dev` mounts them), on the
real PostgreSQL: every route, and what an admin action does to a user's live sessions."""

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from entrypoints.wiring.di import resolve
from tests.support.admin import ADMIN, AdminStack, running_admin_stack
from tests.support.phone import (
    API,
    bearer,
    device_id,
    error_code,
    login,
    new_guest,
    refresh,
    register,
)

pytestmark = pytest.mark.postgres
PASSWORD = "correct horse battery"


@pytest.fixture
async def stack(tmp_path: Path, postgres_url: str, pg_engine: Any) -> AsyncIterator[AdminStack]:
    # A long auth cache: only the `user.sessions_ended` notice can end a session at once.
    async with running_admin_stack(tmp_path / "data", postgres_url,
                                   auth_cache_seconds=300) as running:
        yield running


@pytest.fixture
async def auth(stack: AdminStack) -> dict[str, str]:
    return await stack.logged_in_admin()


async def member(stack: AdminStack, email: str, device: str | None = None) -> dict[str, Any]:
    """Registers, confirms (code from the local mailbox) and logs in; returns the session."""
    from tests.support.stack import Stack

    device = device or device_id()
    response = await register(stack.client, email, PASSWORD, device)
    assert response.status_code == 201, response.text
    mailbox = Stack(stack.base_url, stack.client, stack.mobile, stack.settings)
    code = mailbox.confirmation_code(email)
    confirmed = await stack.client.post(f"{API}/accounts/confirm", json={
        "email": email, "code": code})
    assert confirmed.status_code == 200, confirmed.text
    response = await login(stack.client, email, PASSWORD, device)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    session["device"] = device
    return session


async def audit_actions(stack: AdminStack, auth: dict[str, str], **params: str) -> list[str]:
    response = await stack.client.get(f"{ADMIN}/audit", headers=auth,
                                      params={"limit": "200", **params})
    assert response.status_code == 200, response.text
    return [e["action"] for e in response.json()["entries"]]


async def test_local_admin_logs_in_and_gets_a_short_lived_eddsa_admin_token(
    stack: AdminStack,
) -> None:
    import jwt

    await stack.create_admin()
    response = await stack.client.post(f"{ADMIN}/sessions", json={
        "email": "ROOT@atelier.test", "password": "admin-password-1"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    header = jwt.get_unverified_header(body["token"])
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt"
    assert claims["aud"] == "atelier-admin" and claims["exp"] - claims["iat"] == 900
    wrong = await stack.client.post(f"{ADMIN}/sessions", json={
        "email": "root@atelier.test", "password": "nope-nope"})
    assert wrong.status_code == 401 and error_code(wrong) == "invalid_credentials"


async def test_admin_login_locks_out_after_five_failures(stack: AdminStack) -> None:
    await stack.create_admin()
    for _ in range(5):
        response = await stack.client.post(f"{ADMIN}/sessions", json={
            "email": "root@atelier.test", "password": "wrong-password"})
        assert response.status_code == 401
    locked = await stack.client.post(f"{ADMIN}/sessions", json={
        "email": "root@atelier.test", "password": "admin-password-1"})
    assert locked.status_code == 429 and error_code(locked) == "account_locked"
    assert int(locked.headers["retry-after"]) >= 1


async def test_routes_refuse_a_missing_a_mobile_and_an_expired_token(
    stack: AdminStack, auth: dict[str, str],
) -> None:
    assert (await stack.client.get(f"{ADMIN}/users")).status_code == 401
    guest = await new_guest(stack.client)
    mobile = await stack.client.get(f"{ADMIN}/users", headers=bearer(guest["tokens"]))
    assert mobile.status_code == 401 and error_code(mobile) == "invalid_token"
    signer = await resolve(stack.admin.infrastructure.signer)
    now = int(time.time())
    expired = signer.sign({
        "iss": stack.settings.issuer, "sub": "whoever", "aud": "atelier-admin",
        "iat": now - 3600, "exp": now - 600, "jti": "x"}, "at+jwt")
    response = await stack.client.get(f"{ADMIN}/users",
                                      headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and error_code(response) == "invalid_token"
    assert (await stack.client.get(f"{ADMIN}/users", headers=auth)).status_code == 200


async def test_search_users_by_kind_email_and_id_in_cursor_pages(
    stack: AdminStack, auth: dict[str, str],
) -> None:
    guests = [await new_guest(stack.client) for _ in range(3)]
    ada = await member(stack, "ada@example.com")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"kind": "guest", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await stack.client.get(f"{ADMIN}/users", headers=auth, params=params)).json()
        seen += [u["id"] for u in page["users"]]
        assert all(u["kind"] == "guest" for u in page["users"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [g["user"]["id"] for g in reversed(guests)]  # newest first, no repeats
    by_email = await stack.client.get(f"{ADMIN}/users", headers=auth, params={"email": "ADA@"})
    assert [u["id"] for u in by_email.json()["users"]] == [ada["user"]["id"]]
    by_id = await stack.client.get(f"{ADMIN}/users", headers=auth,
                                   params={"id": guests[0]["user"]["id"]})
    assert [u["id"] for u in by_id.json()["users"]] == [guests[0]["user"]["id"]]
    bad = await stack.client.get(f"{ADMIN}/users", headers=auth, params={"cursor": "garbage!"})
    assert bad.status_code == 422 and error_code(bad) == "invalid_cursor"


async def test_show_user_with_devices_image_count_and_sessions(
    stack: AdminStack, auth: dict[str, str],
) -> None:
    from tests.support.stack import Stack

    ada = await member(stack, "ada@example.com")
    second = device_id()
    assert (await login(stack.client, "ada@example.com", PASSWORD, second)).status_code == 200
    await Stack(stack.base_url, stack.client, stack.mobile, stack.settings).insert_image(
        ada["user"]["id"])
    response = await stack.client.get(f"{ADMIN}/users/{ada['user']['id']}", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert {d["device_id"] for d in body["devices"]} == {ada["device"], second}
    assert body["image_count"] == 1 and body["live_sessions"] >= 2
    missing = await stack.client.get(f"{ADMIN}/users/nobody", headers=auth)
    assert missing.status_code == 404 and error_code(missing) == "user_not_found"


async def test_disable_ends_every_session_at_once_and_enable_lets_the_user_back(
    stack: AdminStack, auth: dict[str, str],
) -> None:
    ada = await member(stack, "ada@example.com")
    tokens, device = ada["tokens"], ada["device"]
    assert (await stack.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 200

    disabled = await stack.client.post(f"{ADMIN}/users/{ada['user']['id']}/disable",
                                       headers=auth)
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"

    # The access token was cached for 300 s: only the bus notice makes this 401 now.
    me = await stack.client.get(f"{API}/me", headers=bearer(tokens))
    assert me.status_code == 401, me.text
    assert (await refresh(stack.client, tokens["refresh_token"], device)).status_code == 401
    relog = await login(stack.client, "ada@example.com", PASSWORD, device)
    assert relog.status_code in (401, 403)

    enabled = await stack.client.post(f"{ADMIN}/users/{ada['user']['id']}/enable", headers=auth)
    assert enabled.status_code == 200 and enabled.json()["status"] == "active"
    back = await login(stack.client, "ada@example.com", PASSWORD, device)
    assert back.status_code == 200, back.text
    assert await audit_actions(stack, auth, target_id=ada["user"]["id"]) == [
        "user.enabled", "user.disabled"]


async def test_devices_list_and_revoke_one(stack: AdminStack, auth: dict[str, str]) -> None:
    ada = await member(stack, "ada@example.com")
    other = device_id()
    second = (await login(stack.client, "ada@example.com", PASSWORD, other)).json()
    user_id = ada["user"]["id"]
    listed = await stack.client.get(f"{ADMIN}/users/{user_id}/devices", headers=auth)
    assert {d["device_id"] for d in listed.json()["devices"]} == {ada["device"], other}

    revoked = await stack.client.delete(f"{ADMIN}/users/{user_id}/devices/{other}",
                                        headers=auth)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await stack.client.get(f"{API}/me", headers=bearer(second["tokens"]))
            ).status_code == 401
    assert (await refresh(stack.client, second["tokens"]["refresh_token"], other)
            ).status_code == 401
    assert (await stack.client.get(f"{API}/me", headers=bearer(ada["tokens"]))
            ).status_code == 200
    again = await stack.client.delete(f"{ADMIN}/users/{user_id}/devices/{other}", headers=auth)
    assert again.status_code == 404
    after = (await stack.client.get(f"{ADMIN}/users/{user_id}/devices", headers=auth)).json()
    assert {d["device_id"]: d["revoked_at"] is not None for d in after["devices"]} == {
        ada["device"]: False, other: True}


async def test_keys_list_rotate_and_revoke_without_private_halves(
    stack: AdminStack, auth: dict[str, str],
) -> None:
    listed = await stack.client.get(f"{ADMIN}/keys", headers=auth)
    assert listed.status_code == 200
    keys = listed.json()["keys"]
    assert {k["state"] for k in keys} == {"active", "next"}
    assert '"d"' not in listed.text and "private" not in listed.text
    active = next(k for k in keys if k["state"] == "active")
    assert set(active["public_jwk"]) == {"kty", "crv", "x", "kid", "use", "alg"}

    rotated = await stack.client.post(f"{ADMIN}/keys/rotate", headers=auth)
    assert rotated.status_code == 200 and rotated.json()["moves"] == []  # timing says wait

    revoked = await stack.client.post(f"{ADMIN}/keys/{active['kid']}/revoke", headers=auth)
    assert revoked.status_code == 200, revoked.text
    moves = revoked.json()["moves"]
    assert moves[0] == f"revoked {active['kid']}"
    assert any(m.startswith("activated ") for m in moves)  # signing goes on
    # The admin's own token was signed by the revoked key: it stopped working too.
    assert (await stack.client.get(f"{ADMIN}/keys", headers=auth)).status_code == 401
    auth = await stack.admin_token()
    states = {k["kid"]: k["state"]
              for k in (await stack.client.get(f"{ADMIN}/keys", headers=auth)).json()["keys"]}
    assert states[active["kid"]] == "revoked" and "active" in states.values()
    unknown = await stack.client.post(f"{ADMIN}/keys/nope/revoke", headers=auth)
    assert unknown.status_code == 404


async def test_broadcast_reaches_the_realtime_bus(stack: AdminStack, auth: dict[str, str]) -> None:
    import asyncio

    bus = await resolve(stack.admin.bus)
    listener = bus.listen()
    first = asyncio.ensure_future(anext(listener))
    await asyncio.sleep(0)
    response = await stack.client.post(f"{ADMIN}/broadcasts", headers=auth, json={
        "channel": "broadcast", "data": {"type": "maintenance", "minutes": 5}})
    assert response.status_code == 202, response.text
    message = await asyncio.wait_for(first, 5)
    assert (message.channel, message.data) == (
        "broadcast", {"type": "maintenance", "minutes": 5})
    await listener.aclose()
    internal = await stack.client.post(f"{ADMIN}/broadcasts", headers=auth, json={
        "channel": "internal:auth", "data": {}})
    assert internal.status_code == 422


async def test_every_admin_action_is_in_the_audit_log_with_actor_and_source(
    stack: AdminStack, auth: dict[str, str],
) -> None:
    ada = await member(stack, "ada@example.com")
    user_id = ada["user"]["id"]
    headers = {**auth}
    await stack.client.post(f"{ADMIN}/users/{user_id}/disable", headers=headers)
    await stack.client.post(f"{ADMIN}/users/{user_id}/enable", headers=headers)
    await stack.client.delete(f"{ADMIN}/users/{user_id}/devices/{ada['device']}",
                              headers=headers)
    await stack.client.post(f"{ADMIN}/keys/rotate", headers=headers)
    kid = next(k["kid"] for k in (await stack.client.get(f"{ADMIN}/keys", headers=headers)
                                  ).json()["keys"] if k["state"] == "next")
    await stack.client.post(f"{ADMIN}/keys/{kid}/revoke", headers=headers)
    await stack.client.post(f"{ADMIN}/broadcasts", headers=headers, json={
        "channel": f"user:{user_id}", "data": {"hello": "there"}})

    response = await stack.client.get(f"{ADMIN}/audit", headers=headers)
    entries = response.json()["entries"]
    assert [e["action"] for e in entries] == [
        "realtime.broadcast", "key.revoked", "keys.rotated", "device.revoked",
        "user.enabled", "user.disabled", "admin.login", "admin.created"]
    admin_id = entries[-1]["target_id"]
    for entry in entries[:-1]:
        assert entry["actor"] == f"local:{admin_id}"
        assert entry["actor_email"] == "root@atelier.test"
        assert entry["source_ip"] == "127.0.0.1"
        assert entry["at"]
    assert entries[0]["details"] == {"data": {"hello": "there"}}
    assert entries[1]["target_id"] == kid

    pages: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await stack.client.get(f"{ADMIN}/audit", headers=headers, params=params)).json()
        pages += [e["seq"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [e["seq"] for e in entries] and len(set(pages)) == len(entries)
    filtered = await audit_actions(stack, headers, action="user.disabled")
    assert filtered == ["user.disabled"]


async def test_schema_is_served_without_login(stack: AdminStack) -> None:
    response = await stack.client.get(f"{ADMIN}/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/v1/api/admin/users", "/v1/api/admin/users/{user_id}/disable",
                 "/v1/api/admin/keys/{kid}/revoke", "/v1/api/admin/audit",
                 "/v1/api/admin/broadcasts", "/v1/api/admin/sessions"):
        assert path in paths, path


async def test_disable_across_processes_through_redis(
    tmp_path: Path, postgres_url: str, pg_engine: Any, redis_url: str,
) -> None:
    """Separate buses on one Redis, as separate containers would have."""
    async with running_admin_stack(tmp_path / "data", postgres_url, redis_url=redis_url,
                                   auth_cache_seconds=300) as stack:
        auth = await stack.logged_in_admin()
        ada = await member(stack, "ada@example.com")
        assert (await stack.client.get(f"{API}/me", headers=bearer(ada["tokens"]))
                ).status_code == 200
        response = await stack.client.post(f"{ADMIN}/users/{ada['user']['id']}/disable",
                                           headers=auth)
        assert response.status_code == 200
        status = 200
        deadline = time.monotonic() + 3
        while status == 200 and time.monotonic() < deadline:  # pub/sub is asynchronous
            status = (await stack.client.get(f"{API}/me", headers=bearer(ada["tokens"]))
                      ).status_code
        assert status == 401



async def test_atelier_dev_mounts_the_admin_api_at_its_prefix(tmp_path: Path) -> None:
    """The embedded default (SQLite, every entrypoint on one port): the admin API answers
    under /v1/api/admin, the mobile API everywhere else."""
    from adapters.sql.migrate import upgrade_database
    from entrypoints.dev.app import create_dev_app
    from tests.support.admin import settings_for
    from tests.support.server import serving

    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    app = create_dev_app(settings_for(tmp_path / "data", url))
    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        schema = await client.get(f"{ADMIN}/schema/openapi.json")
        assert schema.json()["info"]["title"] == "Atelier admin API"
        assert (await client.get(f"{ADMIN}/users")).status_code == 401
        assert (await client.get("/v1/api/schema/openapi.json")).json()["info"]["title"] == (
            "Atelier mobile API")
