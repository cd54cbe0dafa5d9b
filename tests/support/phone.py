"""What the mobile app does, as small helpers over HTTP."""

import secrets
from typing import Any

import httpx

API = "/v1/api"


def device_id() -> str:
    return "IDFV-" + secrets.token_hex(12).upper()


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def new_guest(client: httpx.AsyncClient, device: str | None = None) -> dict[str, Any]:
    response = await client.post(f"{API}/guests", json={
        "device_id": device or device_id(), "platform": "ios"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(
    client: httpx.AsyncClient, email: str, password: str, device: str,
    guest_tokens: dict[str, Any] | None = None,
) -> httpx.Response:
    headers = bearer(guest_tokens) if guest_tokens else {}
    return await client.post(f"{API}/accounts", headers=headers, json={
        "email": email, "password": password, "device_id": device, "platform": "ios"})


async def login(
    client: httpx.AsyncClient, email: str, password: str, device: str
) -> httpx.Response:
    return await client.post(f"{API}/sessions", json={
        "email": email, "password": password, "device_id": device, "platform": "android"})


async def refresh(client: httpx.AsyncClient, token: str, device: str) -> httpx.Response:
    return await client.post(f"{API}/sessions/refresh", json={
        "refresh_token": token, "device_id": device})


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code
