"""The OpenAPI documents tell the truth about errors: for a sample of operations the
real app, over HTTP, is driven into every error code the document lists for that operation
(each answer is one the document lists there), and the few codes that cannot be provoked
from outside are named with the reason."""

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import StackFactory
from tests.support.admin import ADMIN, running_admin_stack
from tests.support.phone import API, bearer, device_id, error_code, new_guest, refresh
from tests.support.stack import Stack

CODES = re.compile(r"`error\.code` is one of: (.*)$")
Answer = tuple[int, str]


async def documented(client: httpx.AsyncClient, method: str, path: str) -> set[Answer]:
    doc = (await client.get(f"{API}/schema/openapi.json")).json()
    responses = doc["paths"][path][method.lower()]["responses"]
    return {(int(status), code) for status, response in responses.items()
            if (listed := CODES.search(response["description"]))
            for code in re.findall(r"`([a-z_]+)`", listed.group(1))}


def answer(response: httpx.Response) -> Answer:
    return response.status_code, error_code(response)


class Seen:
    """The answers an operation gave, each checked against its document as it comes."""

    def __init__(self, listed: set[Answer]) -> None:
        self.listed, self.answers = listed, set[Answer]()

    def __call__(self, response: httpx.Response, expected: Answer) -> None:
        assert answer(response) == expected, response.text
        assert expected in self.listed, f"{expected} answered but not documented"
        self.answers.add(expected)


async def test_refresh_answers_each_code_it_documents(make_stack: StackFactory) -> None:
    async with make_stack(refresh_token_ttl_days=1 / 86400) as stack:
        client = stack.client
        seen = Seen(await documented(client, "POST", "/v1/api/sessions/refresh"))
        url = f"{API}/sessions/refresh"

        seen(await client.post(url, content=b'{"refresh_token": ',
                               headers={"content-type": "application/json"}),
             (400, "invalid_json"))
        seen(await client.post(url, json={"device_id": device_id()}), (422, "invalid_request"))
        seen(await refresh(client, "not-a-refresh-token", device_id()),
             (401, "invalid_refresh_token"))

        phone = device_id()
        token = (await new_guest(client, phone))["tokens"]["refresh_token"]
        await asyncio.sleep(1.2)
        seen(await refresh(client, token, phone), (401, "refresh_token_expired"))

    async with make_stack(reuse_interval_seconds=0) as stack:
        client = stack.client
        phone = device_id()
        first = (await new_guest(client, phone))["tokens"]["refresh_token"]
        rotated = await refresh(client, first, phone)
        assert rotated.status_code == 200, rotated.text
        seen(await refresh(client, first, phone), (401, "refresh_token_reused"))
        seen(await refresh(client, rotated.json()["tokens"]["refresh_token"], phone),
             (401, "session_revoked"))

        token = (await new_guest(client, phone))["tokens"]["refresh_token"]
        seen(await refresh(client, token, device_id()), (401, "device_mismatch"))

    # Two rotations of one family racing in two transactions; 429 is the rate-limit test's.
    assert seen.listed - seen.answers == {(409, "concurrent_update"), (429, "too_many_requests")}


async def test_reading_an_image_answers_each_code_it_documents(stack: Stack) -> None:
    client = stack.client
    seen = Seen(await documented(client, "GET", "/v1/api/images/{image_id}"))
    guest = await new_guest(client)
    mine = await stack.insert_image(guest["user"]["id"])
    assert (await client.get(f"{API}/images/{mine}", headers=bearer(guest["tokens"]))
            ).status_code == 200

    seen(await client.get(f"{API}/images/{mine}"), (401, "invalid_token"))
    seen(await client.get(f"{API}/images/{mine}", headers={"Authorization": "Bearer x.y.z"}),
         (401, "invalid_token"))
    other = await new_guest(client)
    seen(await client.get(f"{API}/images/{mine}", headers=bearer(other["tokens"])),
         (404, "image_not_found"))
    ended = await client.delete(f"{API}/sessions/current", headers=bearer(guest["tokens"]))
    assert ended.status_code == 204
    seen(await client.get(f"{API}/images/{mine}", headers=bearer(guest["tokens"])),
         (401, "session_ended"))

    assert seen.listed - seen.answers == {(429, "too_many_requests")}


async def test_creating_a_guest_answers_each_code_it_documents(stack: Stack) -> None:
    client = stack.client
    seen = Seen(await documented(client, "POST", "/v1/api/guests"))
    url = f"{API}/guests"

    seen(await client.post(url, content=b"\xff{", headers={"content-type": "application/json"}),
         (400, "invalid_json"))
    for body in ({"device_id": "short", "platform": "ios"},
                 {"device_id": device_id(), "platform": "windows"}, {}):
        seen(await client.post(url, json=body), (422, "invalid_request"))

    assert seen.listed - seen.answers == {(429, "too_many_requests")}


async def test_every_route_is_rate_limited_as_documented(make_stack: StackFactory) -> None:
    async with make_stack(rate_limit_default_per_minute=2) as stack:
        client = stack.client
        for method, path, url, body in [
                ("POST", "/v1/api/sessions/refresh", f"{API}/sessions/refresh", {}),
                ("GET", "/v1/api/images/{image_id}", f"{API}/images/img-1", None),
                ("POST", "/v1/api/guests", f"{API}/guests", {})]:
            listed = await documented(client, method, path)
            answers: list[Any] = [await client.request(method, url, json=body)
                                  for _ in range(3)]
            assert answer(answers[-1]) == (429, "too_many_requests")
            assert (429, "too_many_requests") in listed


async def test_an_admin_read_answers_each_code_it_documents(
    tmp_path: Path, postgres_url: str, pg_engine: Any,
) -> None:
    async with running_admin_stack(tmp_path / "data", postgres_url) as stack:
        client = stack.client
        doc = (await client.get(f"{ADMIN}/schema/openapi.json")).json()
        responses = doc["paths"]["/v1/api/admin/users/{user_id}"]["get"]["responses"]
        seen = Seen({(int(status), code) for status, response in responses.items()
                     if (listed := CODES.search(response["description"]))
                     for code in re.findall(r"`([a-z_]+)`", listed.group(1))})
        url = f"{ADMIN}/users/usr-nobody"

        seen(await client.get(url), (401, "invalid_token"))
        seen(await client.get(url, headers={"Authorization": "Bearer x.y.z"}),
             (401, "invalid_token"))
        seen(await client.get(url, headers=await stack.logged_in_admin()),
             (404, "user_not_found"))

    async with running_admin_stack(tmp_path / "elsewhere", postgres_url,
                                   admin_allowed_cidrs="192.0.2.0/24") as stack:
        seen(await stack.client.get(url), (403, "ip_not_allowed"))

    # An ended admin session and a Cognito user outside the admins group need the Cognito
    # mode; 429 is the rate limit's, as on the mobile API.
    assert seen.listed - seen.answers == {
        (401, "session_ended"), (403, "not_an_admin"), (429, "too_many_requests")}
