"""The mobile identity contract over real HTTP, on SQLite (embedded) and PostgreSQL."""

import asyncio
import secrets

from tests.e2e.conftest import StackFactory
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
from tests.support.stack import Stack

PASSWORD = "correct horse battery staple"


def email() -> str:
    return f"user-{secrets.token_hex(4)}@example.com"


async def member(stack: Stack, address: str, device: str) -> dict:
    response = await register(stack.client, address, PASSWORD, device)
    assert response.status_code == 201, response.text
    code = stack.confirmation_code(address)
    confirmed = await stack.client.post(f"{API}/accounts/confirm",
                                        json={"email": address, "code": code})
    assert confirmed.status_code == 200, confirmed.text
    return response.json()


async def test_guest_upgrade_keeps_the_same_id(stack: Stack) -> None:
    device = device_id()
    guest = await new_guest(stack.client, device)
    assert guest["user"]["kind"] == "guest"
    address = email()

    upgraded = await register(stack.client, address, PASSWORD, device, guest["tokens"])

    assert upgraded.status_code == 201, upgraded.text
    assert upgraded.json()["user"]["id"] == guest["user"]["id"]
    assert upgraded.json()["user"]["kind"] == "member"
    me = await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))
    assert me.status_code == 200
    assert me.json()["kind"] == "member" and me.json()["email"] == address


async def test_email_in_use_then_merge_guest_moves_images_and_ends_guest(stack: Stack) -> None:
    address = email()
    owner = await member(stack, address, device_id())
    phone = device_id()
    guest = await new_guest(stack.client, phone)
    await stack.insert_image(guest["user"]["id"])
    await stack.insert_image(guest["user"]["id"])

    clash = await register(stack.client, address, "another password", phone, guest["tokens"])
    assert clash.status_code == 409
    assert error_code(clash) == "email_in_use"

    merged = await stack.client.post(
        f"{API}/accounts/merge-guest", headers=bearer(guest["tokens"]),
        json={"email": address, "password": PASSWORD})

    assert merged.status_code == 200, merged.text
    assert merged.json()["user"]["id"] == owner["user"]["id"]
    assert await stack.image_count(owner["user"]["id"]) == 2
    assert await stack.image_count(guest["user"]["id"]) == 0
    ended = await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))
    assert ended.status_code == 401
    stale = await refresh(stack.client, guest["tokens"]["refresh_token"], phone)
    assert stale.status_code == 401
    me = await stack.client.get(f"{API}/me", headers=bearer(merged.json()["tokens"]))
    assert me.json()["id"] == owner["user"]["id"]


async def test_merge_guest_with_a_wrong_password_keeps_the_guest(stack: Stack) -> None:
    address = email()
    await member(stack, address, device_id())
    guest = await new_guest(stack.client)
    await stack.insert_image(guest["user"]["id"])

    refused = await stack.client.post(
        f"{API}/accounts/merge-guest", headers=bearer(guest["tokens"]),
        json={"email": address, "password": "wrong password!"})

    assert refused.status_code == 401
    assert await stack.image_count(guest["user"]["id"]) == 1
    assert (await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))).status_code == 200


async def test_login_on_a_device_and_refresh_rotates(stack: Stack) -> None:
    address = email()
    await member(stack, address, device_id())
    phone = device_id()

    logged_in = await login(stack.client, address, PASSWORD, phone)
    assert logged_in.status_code == 200, logged_in.text
    first = logged_in.json()["tokens"]
    assert first["token_type"] == "Bearer" and first["expires_in"] == 3600

    rotated = await refresh(stack.client, first["refresh_token"], phone)

    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["tokens"]
    assert second["refresh_token"] != first["refresh_token"]
    again = await refresh(stack.client, second["refresh_token"], phone)
    assert again.status_code == 200
    devices = await stack.client.get(f"{API}/me/devices", headers=bearer(second))
    assert phone in [d["device_id"] for d in devices.json()["devices"]]


async def test_login_before_confirming_is_refused(stack: Stack) -> None:
    address = email()
    assert (await register(stack.client, address, PASSWORD, device_id())).status_code == 201
    refused = await login(stack.client, address, PASSWORD, device_id())
    assert refused.status_code == 403
    assert error_code(refused) == "email_not_confirmed"


async def test_five_wrong_codes_then_a_resent_code_lets_the_member_in(stack: Stack) -> None:
    address, device = email(), device_id()
    assert (await register(stack.client, address, PASSWORD, device)).status_code == 201
    code = stack.confirmation_code(address)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        refused = await stack.client.post(f"{API}/accounts/confirm",
                                          json={"email": address, "code": wrong})
        assert error_code(refused) == "invalid_confirmation_code"
    voided = await stack.client.post(f"{API}/accounts/confirm",
                                     json={"email": address, "code": code})
    assert voided.status_code == 422  # the code is gone: without a resend, a dead end
    resent = await stack.client.post(f"{API}/accounts/confirm/resend",
                                     json={"email": address.upper()})
    assert resent.status_code == 202 and resent.json() == {"status": "accepted"}
    fresh = stack.confirmation_code(address)
    confirmed = await stack.client.post(f"{API}/accounts/confirm",
                                        json={"email": address, "code": fresh})
    assert confirmed.status_code == 200, confirmed.text
    assert (await login(stack.client, address, PASSWORD, device)).status_code == 200


async def test_resend_says_the_same_for_any_address_and_is_limited_per_address(
    stack: Stack,
) -> None:
    mails_before = len(stack.mailbox())
    unknown = await stack.client.post(f"{API}/accounts/confirm/resend",
                                      json={"email": "nobody@example.com"})
    assert (unknown.status_code, unknown.json()) == (202, {"status": "accepted"})
    assert len(stack.mailbox()) == mails_before
    for _ in range(4):
        await stack.client.post(f"{API}/accounts/confirm/resend",
                                json={"email": "nobody@example.com"})
    limited = await stack.client.post(f"{API}/accounts/confirm/resend",
                                      json={"email": "Nobody@Example.com"})
    assert limited.status_code == 429 and error_code(limited) == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0
    bad = await stack.client.post(f"{API}/accounts/confirm/resend", json={"email": "no-at"})
    assert bad.status_code == 422


async def test_concurrent_refreshes_converge_then_replay_revokes_family(
    make_stack: StackFactory,
) -> None:
    async with make_stack(reuse_interval_seconds=1.0) as stack:
        phone = device_id()
        guest = await new_guest(stack.client, phone)
        token = guest["tokens"]["refresh_token"]

        first, second = await asyncio.gather(
            refresh(stack.client, token, phone), refresh(stack.client, token, phone))

        assert first.status_code == 200, first.text
        assert second.status_code == 200, second.text
        newest = first.json()["tokens"]["refresh_token"]
        assert second.json()["tokens"]["refresh_token"] == newest
        await asyncio.sleep(1.2)

        replay = await refresh(stack.client, token, phone)

        assert replay.status_code == 401
        assert error_code(replay) == "refresh_token_reused"
        dead = await refresh(stack.client, newest, phone)
        assert dead.status_code == 401
        access = await stack.client.get(f"{API}/me", headers=bearer(first.json()["tokens"]))
        assert access.status_code == 401


async def test_refresh_from_another_device_fails(stack: Stack) -> None:
    phone = device_id()
    guest = await new_guest(stack.client, phone)

    stolen = await refresh(stack.client, guest["tokens"]["refresh_token"], device_id())

    assert stolen.status_code == 401
    assert error_code(stolen) == "device_mismatch"
    after = await refresh(stack.client, guest["tokens"]["refresh_token"], phone)
    assert after.status_code == 401


async def test_transfer_code_moves_the_account_and_ends_old_sessions(stack: Stack) -> None:
    old_phone, new_phone = device_id(), device_id()
    guest = await new_guest(stack.client, old_phone)
    issued = await stack.client.post(f"{API}/transfer-codes", headers=bearer(guest["tokens"]))
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    assert len(code.replace("-", "")) == 16

    redeemed = await stack.client.post(f"{API}/transfer-codes/redeem", json={
        "code": code.lower(), "device_id": new_phone, "platform": "android"})

    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["user"]["id"] == guest["user"]["id"]
    old_access = await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))
    assert old_access.status_code == 401
    old_refresh = await refresh(stack.client, guest["tokens"]["refresh_token"], old_phone)
    assert old_refresh.status_code == 401
    new_tokens = redeemed.json()["tokens"]
    devices = await stack.client.get(f"{API}/me/devices", headers=bearer(new_tokens))
    assert [d["device_id"] for d in devices.json()["devices"]] == [new_phone]
    reused = await stack.client.post(f"{API}/transfer-codes/redeem", json={
        "code": code, "device_id": device_id(), "platform": "ios"})
    assert reused.status_code == 404
    assert error_code(reused) == "invalid_transfer_code"


async def test_new_transfer_code_voids_the_old_one(stack: Stack) -> None:
    guest = await new_guest(stack.client)
    first = (await stack.client.post(f"{API}/transfer-codes", headers=bearer(guest["tokens"])))
    second = (await stack.client.post(f"{API}/transfer-codes", headers=bearer(guest["tokens"])))
    voided = await stack.client.post(f"{API}/transfer-codes/redeem", json={
        "code": first.json()["code"], "device_id": device_id(), "platform": "ios"})
    assert voided.status_code == 404
    works = await stack.client.post(f"{API}/transfer-codes/redeem", json={
        "code": second.json()["code"], "device_id": device_id(), "platform": "ios"})
    assert works.status_code == 200


async def test_expired_transfer_code_fails(make_stack: StackFactory) -> None:
    async with make_stack(transfer_code_ttl_seconds=1) as stack:
        guest = await new_guest(stack.client)
        issued = await stack.client.post(f"{API}/transfer-codes", headers=bearer(guest["tokens"]))
        await asyncio.sleep(1.1)
        late = await stack.client.post(f"{API}/transfer-codes/redeem", json={
            "code": issued.json()["code"], "device_id": device_id(), "platform": "ios"})
        assert late.status_code == 404
        assert error_code(late) == "invalid_transfer_code"


async def test_logout_ends_this_device_only(stack: Stack) -> None:
    address = email()
    await member(stack, address, device_id())
    phone_a, phone_b = device_id(), device_id()
    a = (await login(stack.client, address, PASSWORD, phone_a)).json()["tokens"]
    b = (await login(stack.client, address, PASSWORD, phone_b)).json()["tokens"]

    out = await stack.client.delete(f"{API}/sessions/current", headers=bearer(a))

    assert out.status_code == 204
    assert (await stack.client.get(f"{API}/me", headers=bearer(a))).status_code == 401
    assert (await refresh(stack.client, a["refresh_token"], phone_a)).status_code == 401
    assert (await stack.client.get(f"{API}/me", headers=bearer(b))).status_code == 200


async def test_revoking_a_device_signs_it_out(stack: Stack) -> None:
    address = email()
    await member(stack, address, device_id())
    phone_a, phone_b = device_id(), device_id()
    a = (await login(stack.client, address, PASSWORD, phone_a)).json()["tokens"]
    b = (await login(stack.client, address, PASSWORD, phone_b)).json()["tokens"]

    gone = await stack.client.delete(f"{API}/me/devices/{phone_b}", headers=bearer(a))

    assert gone.status_code == 204
    assert (await stack.client.get(f"{API}/me", headers=bearer(b))).status_code == 401
    missing = await stack.client.delete(f"{API}/me/devices/{phone_b}", headers=bearer(a))
    assert missing.status_code == 404


async def test_profile_preferences(stack: Stack) -> None:
    guest = await new_guest(stack.client)
    patched = await stack.client.patch(f"{API}/me", headers=bearer(guest["tokens"]),
                                       json={"notify_by_email": True, "display_name": "Aiko"})
    assert patched.status_code == 200, patched.text
    me = await stack.client.get(f"{API}/me", headers=bearer(guest["tokens"]))
    assert me.json()["notify_by_email"] is True and me.json()["display_name"] == "Aiko"
