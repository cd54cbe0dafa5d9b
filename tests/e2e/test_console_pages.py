"""The web console over HTTP as `atelier dev` mounts it, on SQLite and PostgreSQL: every
page for a signed-in admin, and what its forms do to users, images, keys and phones."""

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update

from adapters.sql.tables import images, users
from domain.shared.clock import utcnow
from domain.shared.ids import new_id
from entrypoints.wiring.di import resolve
from tests.support.console import ConsoleStack, csrf_of, running_console_stack
from tests.support.phone import API, bearer, new_guest

PAGES = ["/", "/users", "/images", "/keys", "/broadcast", "/audit", "/deletions"]


@pytest.fixture
async def stack(tmp_path: Path, database_url: str) -> AsyncIterator[ConsoleStack]:
    async with running_console_stack(tmp_path / "data", database_url) as running:
        await running.create_admin()
        yield running


async def audit_actions(stack: ConsoleStack) -> list[str]:
    page = await stack.client.get("/audit")
    return re.findall(r"<code>([a-z_.]+)</code>", page.text)


async def insert_image(stack: ConsoleStack, user_id: str, prompt: str = "a red fox") -> str:
    image_id, now = new_id(), utcnow()
    engine = await resolve(stack.infrastructure.engine)
    async with engine.begin() as connection:
        await connection.execute(insert(images).values(
            id=image_id, user_id=user_id, status="ready", prompt=prompt, size="1024x1024",
            quality="low", object_key=f"images/{user_id}/{image_id}.png",
            created_at=now, updated_at=now))
    return image_id


async def test_every_page_sends_a_stranger_to_sign_in_and_renders_for_an_admin(
    stack: ConsoleStack,
) -> None:
    for path in PAGES:
        response = await stack.client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in"), path
    await stack.signed_in()
    for path in PAGES:
        response = await stack.client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-store"
        assert 'aria-current="page"' in response.text, path
    assert (await stack.client.get("/no-such-page")).status_code == 404


async def test_the_mobile_api_still_answers_at_its_paths(stack: ConsoleStack) -> None:
    guest = await new_guest(stack.client)
    me = await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))
    assert me.status_code == 200 and me.json()["kind"] == "guest"
    assert (await stack.client.get("/.well-known/jwks.json")).json()["keys"]
    assert (await stack.client.get("/readyz")).status_code == 200


async def test_the_overview_counts_users_and_todays_images(stack: ConsoleStack) -> None:
    guests = [await new_guest(stack.client) for _ in range(3)]
    await insert_image(stack, guests[0]["user"]["id"])
    await stack.signed_in()
    page = (await stack.client.get("/")).text
    assert re.search(r"<dt>Guests</dt><dd>3</dd>", page), page
    assert re.search(r"<dt>Members</dt><dd>0</dd>", page)
    assert 'value="1"' in page  # the ready image's bar
    assert re.search(r"<dt>Jobs waiting</dt><dd>0</dd>", page)  # the local queue, asked
    assert "Connected sockets" in page and "unknown" in page
    assert "state-active" in page  # the signing key timeline


async def test_disabling_a_user_ends_their_phone_session_and_is_audited_with_the_reason(
    stack: ConsoleStack,
) -> None:
    guest = await new_guest(stack.client)
    user_id = guest["user"]["id"]
    csrf = await stack.signed_in()
    found = await stack.client.get("/users", params={"q": user_id})
    assert f"/users/{user_id}" in found.text

    no_reason = await stack.client.post(f"/users/{user_id}/disable", data={"csrf_token": csrf})
    assert no_reason.status_code == 422 and "Give a reason" in no_reason.text
    assert (await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))).status_code \
        == 200

    disabled = await stack.client.post(f"/users/{user_id}/disable", data={
        "csrf_token": csrf, "reason": "spam from this device"})
    assert disabled.status_code == 303
    me = await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))
    assert me.status_code == 401, me.text
    detail = await stack.client.get(disabled.headers["location"])
    assert "The user is disabled" in detail.text and "Enable user" in detail.text
    log = (await stack.client.get("/audit", params={"action": "user.disabled"})).text
    assert "spam from this device" in log and "root@atelier.test" in log

    enabled = await stack.client.post(f"/users/{user_id}/enable", data={
        "csrf_token": csrf, "reason": "appeal accepted"})
    assert enabled.status_code == 303
    assert "Disable user" in (await stack.client.get(f"/users/{user_id}")).text


async def test_revoking_a_device_signs_it_out(stack: ConsoleStack) -> None:
    guest = await new_guest(stack.client, "phone-one-0001")
    user_id = guest["user"]["id"]
    csrf = await stack.signed_in()
    detail = await stack.client.get(f"/users/{user_id}")
    assert "phone-one-0001" in detail.text
    sessions = detail.text.split('id="sessions-title"')[1]
    assert "phone-one-0001" in sessions  # its live session
    confirm = await stack.client.get(f"/users/{user_id}/devices/phone-one-0001/revoke")
    assert confirm.status_code == 200 and "Sign the device out" in confirm.text
    done = await stack.client.post(f"/users/{user_id}/devices/phone-one-0001/revoke", data={
        "csrf_token": csrf, "reason": "lost phone"})
    assert done.status_code == 303
    assert (await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))).status_code \
        == 401
    assert "device.revoked" in await audit_actions(stack)
    after = (await stack.client.get(f"/users/{user_id}")).text
    assert "No live sessions." in after


async def test_what_users_wrote_is_shown_escaped(stack: ConsoleStack) -> None:
    guest = await new_guest(stack.client)
    user_id = guest["user"]["id"]
    script = '<script>alert("x")</script>'
    engine = await resolve(stack.infrastructure.engine)
    async with engine.begin() as connection:
        await connection.execute(
            update(users).where(users.c.id == user_id).values(display_name=script))
    await insert_image(stack, user_id, prompt=f"a fox {script} <img src=x onerror=alert(1)>")
    await stack.signed_in()
    for path in (f"/users/{user_id}", "/users", "/images"):
        page = (await stack.client.get(path)).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;alert(" in page, path


async def test_images_grid_hide_and_delete_after_confirmation(stack: ConsoleStack) -> None:
    guest = await new_guest(stack.client)
    user_id = guest["user"]["id"]
    image_id = await insert_image(stack, user_id)
    csrf = await stack.signed_in()
    grid = await stack.client.get("/images", params={"owner": user_id})
    assert image_id in grid.text
    link = re.search(r'<img src="([^"]+)"', grid.text)
    assert link and "expires=" in link.group(1) and "sig=" in link.group(1)
    assert "img-src 'self'" in grid.headers["content-security-policy"]
    assert "No images match" in (await stack.client.get(
        "/images", params={"owner": "nobody"})).text
    assert "No images match" in (await stack.client.get(
        "/images", params={"status": "failed"})).text

    hidden = await stack.client.post(f"/images/{image_id}/hide", data={"csrf_token": csrf})
    assert hidden.status_code == 303
    assert "hidden-badge" in (await stack.client.get("/images")).text

    confirm = await stack.client.get(f"/images/{image_id}/delete")
    assert confirm.status_code == 200 and "Delete the image" in confirm.text
    deleted = await stack.client.post(f"/images/{image_id}/delete", data={
        "csrf_token": csrf, "reason": "abuse"})
    assert deleted.status_code == 303
    again = await stack.client.post(f"/images/{image_id}/delete", data={"csrf_token": csrf})
    assert again.status_code == 404 and "text/html" in again.headers["content-type"]
    assert {"image.hidden", "image.deleted"} <= set(await audit_actions(stack))


async def test_a_key_is_revoked_only_when_its_kid_is_typed_exactly(stack: ConsoleStack) -> None:
    csrf = await stack.signed_in()
    keys = (await stack.client.get("/keys")).text
    kid = re.search(r'href="/keys/([^"/]+)/revoke"', keys)
    assert kid, keys
    kid_text = kid.group(1)
    form = await stack.client.get(f"/keys/{kid_text}/revoke")
    assert 'data-confirm-match="' in form.text
    wrong = await stack.client.post(f"/keys/{kid_text}/revoke", data={
        "csrf_token": csrf, "confirm_kid": kid_text.upper() + "x"})
    assert wrong.status_code == 422 and "exactly" in wrong.text
    assert "key.revoked" not in await audit_actions(stack)
    right = await stack.client.post(f"/keys/{kid_text}/revoke", data={
        "csrf_token": csrf, "confirm_kid": kid_text, "reason": "leaked"})
    assert right.status_code == 303
    assert "key-revoked" in (await stack.client.get("/keys")).text
    rotated = await stack.client.post("/keys/rotate", data={"csrf_token": csrf})
    assert rotated.status_code == 200 and "Rotation ran" in rotated.text


async def test_a_broadcast_reaches_the_bus_and_the_audit_log(stack: ConsoleStack) -> None:
    csrf = await stack.signed_in()
    bus: Any = await resolve(stack.infrastructure.bus)
    heard = bus.listen()
    first = asyncio.create_task(anext(heard))  # listening from now on
    await asyncio.sleep(0.05)
    empty = await stack.client.post("/broadcast", data={"csrf_token": csrf, "message": " "})
    assert empty.status_code == 422
    sent = await stack.client.post("/broadcast", data={
        "csrf_token": csrf, "message": "Maintenance at 22:00 UTC"})
    assert sent.status_code == 303
    message = await asyncio.wait_for(first, 10)
    await heard.aclose()
    assert message.channel == "broadcast"
    assert message.data == {"type": "announcement", "message": "Maintenance at 22:00 UTC"}
    assert "realtime.broadcast" in await audit_actions(stack)


async def test_account_deletions_are_listed(stack: ConsoleStack) -> None:
    guest = await new_guest(stack.client)
    gone = await stack.client.request("DELETE", f"{API}/me", headers=bearer(guest["tokens"]))
    assert gone.status_code in (200, 202, 204), gone.text
    await stack.signed_in()
    page = (await stack.client.get("/deletions")).text
    assert guest["user"]["id"] in page and "in the app" in page


async def test_audit_log_filters_and_pages(stack: ConsoleStack) -> None:
    csrf = await stack.signed_in()
    for _ in range(3):
        await stack.client.post("/keys/rotate", data={"csrf_token": csrf})
    only = await stack.client.get("/audit", params={"action": "keys.rotated"})
    assert re.findall(r"<code>([a-z_.]+)</code>", only.text) == ["keys.rotated"] * 3
    by_admin = await stack.client.get("/audit", params={"admin": "nobody@atelier.test"})
    assert "No audit entries match" in by_admin.text
    future = await stack.client.get("/audit", params={"from": "2999-01-01"})
    assert "No audit entries match" in future.text
    bad_date = await stack.client.get("/audit", params={"from": "yesterday"})
    assert bad_date.status_code == 200
    bad_cursor = await stack.client.get("/audit", params={"cursor": "%%%"})
    assert bad_cursor.status_code == 422 and "text/html" in bad_cursor.headers["content-type"]


async def test_a_sign_in_page_link_keeps_where_the_admin_was_going(stack: ConsoleStack) -> None:
    wanted = await stack.client.get("/audit", params={"action": "user.disabled"})
    assert wanted.status_code == 303
    form = await stack.client.get(wanted.headers["location"])
    assert 'name="next" value="/audit?action=user.disabled"' in form.text
    signed_in = await stack.client.post("/sign-in", data={
        "csrf_token": csrf_of(form.text), "email": "root@atelier.test",
        "password": "admin-password-1", "next": "/audit?action=user.disabled"})
    assert signed_in.headers["location"] == "/audit?action=user.disabled"
    outward = await stack.browser().post("/sign-in", data={"next": "//evil.example"})
    assert outward.status_code == 403  # no form token: refused before anything else
    assert isinstance(outward, httpx.Response)
