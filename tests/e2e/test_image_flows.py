"""The image pipeline over real HTTP: API, outbox relay, durable local queue, worker, files,
on SQLite (embedded) and PostgreSQL."""

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from tests.e2e.conftest import StackFactory
from tests.support.images import FAST, RecordingBus, request_image, running_worker, wait_for_status
from tests.support.phone import API, bearer, device_id, error_code, new_guest, register
from tests.support.stack import Stack

PASSWORD = "correct horse battery staple"


@dataclass
class Pipeline:
    stack: Stack
    bus: RecordingBus


@pytest.fixture
async def pipeline(make_stack: StackFactory) -> AsyncIterator[Pipeline]:
    bus = RecordingBus()
    async with make_stack(**FAST) as stack, running_worker(stack.settings, bus):
        yield Pipeline(stack, bus)


async def test_a_guest_generates_downloads_lists_and_deletes(pipeline: Pipeline) -> None:
    client = pipeline.stack.client
    guest = await new_guest(client)
    tokens = guest["tokens"]

    accepted = await request_image(client, tokens, "a red fox at dawn", size="1536x1024",
                                   quality="low")
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "queued"
    image_id = accepted.json()["id"]

    ready = await wait_for_status(client, tokens, image_id)
    assert ready["status"] == "ready" and ready["url"], ready
    assert (ready["prompt"], ready["size"], ready["quality"]) == (
        "a red fox at dawn", "1536x1024", "low")
    picture = await client.get(ready["url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(picture.content)).size == (1536, 1024)
    events = await pipeline.bus.wait_ready(image_id)
    assert len(events) == 1 and events[0]["url"]

    listed = await client.get(f"{API}/images", headers=bearer(tokens))
    assert [item["id"] for item in listed.json()["items"]] == [image_id]

    deleted = await client.delete(f"{API}/images/{image_id}", headers=bearer(tokens))
    assert deleted.status_code == 204
    gone = await client.get(f"{API}/images/{image_id}", headers=bearer(tokens))
    assert gone.status_code == 404 and error_code(gone) == "image_not_found"
    assert (await client.get(ready["url"])).status_code == 404


async def test_idempotency_key_same_body_same_image_other_body_refused(
    pipeline: Pipeline,
) -> None:
    client = pipeline.stack.client
    tokens = (await new_guest(client))["tokens"]
    first = await request_image(client, tokens, "a red fox", key="retry-1")
    again = await request_image(client, tokens, "a red fox", key="retry-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    other = await request_image(client, tokens, "a blue fox", key="retry-1")
    assert other.status_code == 422 and error_code(other) == "idempotency_key_reused"


async def test_invalid_requests_name_the_problem(pipeline: Pipeline) -> None:
    client = pipeline.stack.client
    tokens = (await new_guest(client))["tokens"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"prompt": ""}, "invalid_prompt"),
        ({"prompt": "x" * 4001}, "invalid_prompt"),
        ({"prompt": "fox", "size": "512x512"}, "invalid_size"),
        ({"prompt": "fox", "quality": "ultra"}, "invalid_quality"),
    ]
    for body, code in cases:
        response = await client.post(f"{API}/images", headers=bearer(tokens), json=body)
        assert response.status_code == 422 and error_code(response) == code, (body, response.text)
    anonymous = await client.post(f"{API}/images", json={"prompt": "fox"})
    assert anonymous.status_code == 401


async def test_another_users_image_is_404_never_403(pipeline: Pipeline) -> None:
    client = pipeline.stack.client
    owner, stranger = (await new_guest(client))["tokens"], (await new_guest(client))["tokens"]
    image_id = (await request_image(client, owner)).json()["id"]
    for method in ("GET", "DELETE"):
        response = await client.request(method, f"{API}/images/{image_id}",
                                        headers=bearer(stranger))
        assert response.status_code == 404, (method, response.text)
    listed = await client.get(f"{API}/images", headers=bearer(stranger))
    assert listed.json()["items"] == []


async def test_quota_exceeded_is_429_with_retry_after(make_stack: StackFactory) -> None:
    async with make_stack(image_quota_guest_per_day=2, **FAST) as stack:
        tokens = (await new_guest(stack.client))["tokens"]
        for n in range(2):
            assert (await request_image(stack.client, tokens, f"fox {n}")).status_code == 202
        refused = await request_image(stack.client, tokens, "one too many")
        assert refused.status_code == 429 and error_code(refused) == "daily_quota_exceeded"
        assert 1 <= int(refused.headers["Retry-After"]) <= 86400


async def test_concurrent_requests_never_exceed_the_quota(make_stack: StackFactory) -> None:
    """An app retrying on several threads at once gets exactly its quota, not one more."""
    async with make_stack(image_quota_guest_per_day=3, **FAST) as stack:
        tokens = (await new_guest(stack.client))["tokens"]
        for _ in range(3):  # several rounds: a lost race shows up in one of them
            outcomes = await asyncio.gather(*(
                request_image(stack.client, tokens, f"fox {n}") for n in range(8)))
            statuses = sorted(response.status_code for response in outcomes)
            accepted = statuses.count(202)
            assert accepted <= 3 and set(statuses) <= {202, 429}, statuses
        listed = await stack.client.get(f"{API}/images", headers=bearer(tokens),
                                        params={"limit": 100})
        assert len(listed.json()["items"]) == 3


async def test_list_pages_newest_first(pipeline: Pipeline) -> None:
    client = pipeline.stack.client
    tokens = (await new_guest(client))["tokens"]
    ids = [(await request_image(client, tokens, f"fox {n}")).json()["id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await client.get(f"{API}/images", headers=bearer(tokens), params=params)
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    bad = await client.get(f"{API}/images", headers=bearer(tokens), params={"cursor": "@@"})
    assert bad.status_code == 422 and error_code(bad) == "invalid_cursor"


async def test_signed_links_refuse_tampering_and_expiry(pipeline: Pipeline) -> None:
    client = pipeline.stack.client
    tokens = (await new_guest(client))["tokens"]
    image_id = (await request_image(client, tokens)).json()["id"]
    ready = await wait_for_status(client, tokens, image_id)
    url: str = ready["url"]
    tampered = await client.get(url.replace("sig=", "sig=0"))
    assert tampered.status_code == 403 and error_code(tampered) == "invalid_download_url"
    other_key = await client.get(url.replace(image_id, "f" * 32))
    assert other_key.status_code == 403
    store = await pipeline.stack.infrastructure.object_store()
    key = url.split("/v1/api/files/")[1].split("?")[0]
    expired = await client.get(pipeline.stack.base_url + await store.download_url(key, -5))
    assert expired.status_code == 403 and error_code(expired) == "download_url_expired"
    escape = await client.get(f"{API}/files/../atelier.db?expires=9999999999&sig=00")
    assert escape.status_code in (403, 404)


async def test_merge_guest_moves_generated_images_and_leaves_objects_alone(
    pipeline: Pipeline,
) -> None:
    stack, client = pipeline.stack, pipeline.stack.client
    address = f"member-{device_id().lower()}@example.com"
    owner = await register(client, address, PASSWORD, device_id())
    assert owner.status_code == 201
    confirmed = await client.post(f"{API}/accounts/confirm", json={
        "email": address, "code": stack.confirmation_code(address)})
    assert confirmed.status_code == 200
    guest = await new_guest(client)
    made = []
    for n in range(2):
        image_id = (await request_image(client, guest["tokens"], f"guest fox {n}")).json()["id"]
        made.append(await wait_for_status(client, guest["tokens"], image_id))
    store = await stack.infrastructure.object_store()
    keys = [f"images/{guest['user']['id']}/{m['id']}.png" for m in made]
    before = [await store.get(key) for key in keys]
    assert all(before)

    merged = await client.post(f"{API}/accounts/merge-guest", headers=bearer(guest["tokens"]),
                               json={"email": address, "password": PASSWORD})
    assert merged.status_code == 200, merged.text

    member_tokens = merged.json()["tokens"]
    listed = await client.get(f"{API}/images", headers=bearer(member_tokens))
    assert sorted(i["id"] for i in listed.json()["items"]) == sorted(m["id"] for m in made)
    assert [await store.get(key) for key in keys] == before
    for item in listed.json()["items"]:
        assert item["status"] == "ready"
        assert (await client.get(item["url"])).content == before[keys.index(
            f"images/{guest['user']['id']}/{item['id']}.png")]


async def test_every_image_route_is_documented_with_its_errors(stack: Stack) -> None:
    schema = (await stack.client.get(f"{API}/schema/openapi.json")).json()
    paths = schema["paths"]
    expected = {
        ("/v1/api/images", "post"): {"202", "401", "409", "422", "429"},
        ("/v1/api/images", "get"): {"200", "401", "422", "429"},
        ("/v1/api/images/{image_id}", "get"): {"200", "401", "404", "429"},
        ("/v1/api/images/{image_id}", "delete"): {"204", "401", "404", "429"},
        ("/v1/api/files/{key}", "get"): {"200", "403", "404"},
    }
    for (path, method), statuses in expected.items():
        assert path in paths, sorted(paths)
        assert statuses <= set(paths[path][method]["responses"]), (path, method)
