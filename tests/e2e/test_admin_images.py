"""Moderation over HTTP: list images by status and owner, hide one, delete one with its
stored picture; the owner stops seeing both; the audit log records both."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.wiring.di import resolve
from tests.support.admin import ADMIN, AdminStack, running_admin_stack
from tests.support.images import FAST, request_image, running_worker, wait_for_status
from tests.support.phone import API, bearer, new_guest


@pytest.fixture
async def stack(tmp_path: Path, postgres_url: str, pg_engine: Any) -> AsyncIterator[AdminStack]:
    async with running_admin_stack(tmp_path / "data", postgres_url, **FAST) as running:
        yield running


async def test_admins_list_hide_and_delete_images(stack: AdminStack) -> None:
    auth = await stack.logged_in_admin()
    owner = (await new_guest(stack.client))["tokens"]
    async with running_worker(stack.settings):
        ids = [(await request_image(stack.client, owner, f"fox {n}")).json()["id"]
               for n in range(2)]
        ready = [await wait_for_status(stack.client, owner, i) for i in ids]
    assert [r["status"] for r in ready] == ["ready", "ready"]
    user_id = (await stack.client.get(f"{API}/me", headers=bearer(owner))).json()["id"]

    first = await stack.client.get(f"{ADMIN}/images", headers=auth,
                                   params={"status": "ready", "user_id": user_id, "limit": 1})
    assert first.status_code == 200, first.text
    second = await stack.client.get(f"{ADMIN}/images", headers=auth, params={
        "status": "ready", "user_id": user_id, "limit": 1,
        "cursor": first.json()["next_cursor"]})
    listed = [i["id"] for i in first.json()["images"] + second.json()["images"]]
    assert listed == list(reversed(ids)) and second.json()["next_cursor"] is None

    hidden, doomed = ids
    hide = await stack.client.post(f"{ADMIN}/images/{hidden}/hide", headers=auth)
    assert hide.status_code == 200 and hide.json()["hidden"] is True
    assert (await stack.client.get(f"{API}/images/{hidden}", headers=bearer(owner))).status_code \
        == 404

    store = await resolve(stack.admin.infrastructure.object_store)
    key = next(i["object_key"] for i in first.json()["images"] + second.json()["images"]
               if i["id"] == doomed)
    assert await store.exists(key)
    removed = await stack.client.delete(f"{ADMIN}/images/{doomed}", headers=auth)
    assert removed.status_code == 200 and removed.json()["status"] == "deleted"
    assert not await store.exists(key)
    assert (await stack.client.get(f"{API}/images/{doomed}", headers=bearer(owner))).status_code \
        == 404
    again = await stack.client.delete(f"{ADMIN}/images/{doomed}", headers=auth)
    assert again.status_code == 404

    deleted = await stack.client.get(f"{ADMIN}/images", headers=auth, params={"status": "deleted"})
    assert [i["id"] for i in deleted.json()["images"]] == [doomed]
    mine = await stack.client.get(f"{API}/images", headers=bearer(owner))
    assert mine.json()["items"] == []
    audit = await stack.client.get(f"{ADMIN}/audit", headers=auth, params={"limit": "50"})
    actions = {(e["action"], e["target_id"]) for e in audit.json()["entries"]}
    assert {("image.hidden", hidden), ("image.deleted", doomed)} <= actions


async def test_image_moderation_needs_an_admin(stack: AdminStack) -> None:
    owner = (await new_guest(stack.client))["tokens"]
    for method, path in (("GET", "/images"), ("POST", "/images/x/hide"),
                         ("DELETE", "/images/x")):
        response = await stack.client.request(method, f"{ADMIN}{path}", headers=bearer(owner))
        assert response.status_code == 401, (path, response.text)
    bad = await stack.client.get(f"{ADMIN}/images", headers=await stack.logged_in_admin(),
                                 params={"cursor": "@@not-a-cursor"})
    assert 400 <= bad.status_code < 500


async def test_unstorable_text_is_a_4xx_never_a_500(stack: AdminStack) -> None:
    auth = await stack.logged_in_admin()
    owner = (await new_guest(stack.client))["tokens"]
    prompt = await request_image(stack.client, owner, "a fox\x00")
    assert prompt.status_code == 422, prompt.text
    for params in ({"email": "a\x00b"}, {"id": "x\x00"}):
        search = await stack.client.get(f"{ADMIN}/users", headers=auth, params=params)
        assert search.status_code == 422, search.text
    login = await stack.client.post(f"{ADMIN}/sessions",
                                    json={"email": "ad\x00min@example.com", "password": "x"})
    assert login.status_code == 422, login.text
