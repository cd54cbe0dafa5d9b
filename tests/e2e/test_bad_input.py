"""Bad input gets a 4xx with an error code, never a 500, and changes nothing."""

import pytest

from tests.support.phone import API, bearer, device_id, new_guest
from tests.support.stack import Stack

GOOD = {"device_id": "IDFV-0123456789AB", "platform": "ios"}


def assert_client_error(response, status: int | None = None) -> str:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]
    code: str = body["error"]["code"]
    return code


@pytest.mark.parametrize("device", [
    "short", "x" * 129, "has spaces in it", "タブレット-0123456789", "ctrl\x01chars-0123",
    "nul\x00byte-0123", 12345678901, None, "",
])
async def test_bad_device_ids_are_422(stack: Stack, device: object) -> None:
    response = await stack.client.post(f"{API}/guests", json={**GOOD, "device_id": device})
    assert_client_error(response, 422)


@pytest.mark.parametrize("body", [
    b"", b"{", b"[]", b"null", b'"text"', b"{\"device_id\": 1}", b"\xff\xfe",
    b'{"device_id": "IDFV-0123456789AB", "platform": "windows"}',
    b'{"platform": "ios"}',
])
async def test_malformed_bodies_are_4xx(stack: Stack, body: bytes) -> None:
    response = await stack.client.post(f"{API}/guests", content=body,
                                       headers={"Content-Type": "application/json"})
    assert_client_error(response)


@pytest.mark.parametrize(("path", "payload"), [
    ("/accounts", {"email": "not-an-email", "password": "long enough pw",
                   "device_id": "IDFV-0123456789AB", "platform": "ios"}),
    ("/accounts", {"email": "a@example.com", "password": "short",
                   "device_id": "IDFV-0123456789AB", "platform": "ios"}),
    ("/accounts", {"email": "a@example.com", "password": "x" * 300,
                   "device_id": "IDFV-0123456789AB", "platform": "ios"}),
    ("/accounts/confirm", {"email": "a@example.com", "code": ""}),
    ("/accounts", {"email": "a\x00b@example.com", "password": "long enough pw",
                   "device_id": "IDFV-0123456789AB", "platform": "ios"}),
    ("/accounts/confirm", {"email": "a@example.com", "code": "999999"}),
    ("/sessions", {"email": "a@example.com", "password": "x",
                   "device_id": "bad id", "platform": "ios"}),
    ("/sessions/refresh", {"refresh_token": "", "device_id": "IDFV-0123456789AB"}),
    ("/sessions/refresh", {"refresh_token": "x" * 10_000, "device_id": "IDFV-0123456789AB"}),
    ("/transfer-codes/redeem", {"code": "1234", "device_id": "IDFV-0123456789AB",
                                "platform": "ios"}),
    ("/transfer-codes/redeem", {"code": "!!!!-!!!!-!!!!-!!!!", "device_id": "IDFV-0123456789AB",
                                "platform": "ios"}),
])
async def test_invalid_fields_are_4xx_with_a_code(stack: Stack, path: str, payload: dict) -> None:
    assert_client_error(await stack.client.post(f"{API}{path}", json=payload))


async def test_an_oversized_body_is_refused(stack: Stack) -> None:
    response = await stack.client.post(f"{API}/guests", content=b"{" + b" " * (2 * 2**20) + b"}",
                                       headers={"Content-Type": "application/json"})
    assert_client_error(response, 413)


async def test_bad_profile_patch_changes_nothing(stack: Stack) -> None:
    guest = await new_guest(stack.client)
    for body in ({"display_name": ""}, {"display_name": "x" * 65}, {"notify_by_email": "yes"},
                 {"display_name": "nul\x00"}):
        response = await stack.client.patch(f"{API}/me", headers=bearer(guest["tokens"]),
                                            json=body)
        assert_client_error(response, 422)
    me = (await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))).json()
    assert me["display_name"] is None and me["notify_by_email"] is False


async def test_unknown_routes_and_methods_answer_in_the_error_format(stack: Stack) -> None:
    assert_client_error(await stack.client.get(f"{API}/nope"), 404)
    assert_client_error(await stack.client.put(f"{API}/guests", json=GOOD), 405)
    guest = await new_guest(stack.client)
    odd = await stack.client.delete(f"{API}/me/devices/%00%ff..%2f",
                                    headers=bearer(guest["tokens"]))
    assert_client_error(odd)
    assert device_id() != device_id()
