"""Phones of the console's browser tests: members over the mobile API of the live server,
with a realtime socket when a test needs one (plain sync clients)."""

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

API = "/v1/api"
PASSWORD = "phone-password-1"


@dataclass
class Phone:
    base_url: str
    user_id: str
    email: str
    device_id: str
    access_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.base_url}{API}{path}", headers=self.auth, timeout=10)

    def set_display_name(self, name: str) -> None:
        response = httpx.patch(f"{self.base_url}{API}/me", headers=self.auth, timeout=10,
                               json={"display_name": name})
        assert response.status_code == 200, response.text

    def request_image(self, prompt: str, wait_ready: bool = True) -> dict[str, Any]:
        response = httpx.post(f"{self.base_url}{API}/images", headers=self.auth, timeout=10,
                              json={"prompt": prompt})
        assert response.status_code == 202, response.text
        image: dict[str, Any] = response.json()
        deadline = time.monotonic() + 30
        while wait_ready and image["status"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, image
            time.sleep(0.1)
            image = self.get(f"/images/{image['id']}").json()
        return image

    def delete_account(self) -> None:
        response = httpx.request("DELETE", f"{self.base_url}{API}/me", headers=self.auth,
                                 json={"password": PASSWORD}, timeout=10)
        assert response.status_code == 202, response.text

    def socket(self) -> ClientConnection:
        issued = httpx.post(f"{self.base_url}{API}/realtime/token", headers=self.auth,
                            timeout=10)
        assert issued.status_code == 200, issued.text
        body = issued.json()
        return connect(f"{body['url']}?token={body['token']}", open_timeout=10)


def new_member(base_url: str, name: str = "ada") -> Phone:
    email = f"{name}-{secrets.token_hex(4)}@example.com"
    device = "IDFV-" + secrets.token_hex(12).upper()
    response = httpx.post(f"{base_url}{API}/accounts", timeout=10, json={
        "email": email, "password": PASSWORD, "device_id": device, "platform": "ios"})
    assert response.status_code == 201, response.text
    body = response.json()
    return Phone(base_url, body["user"]["id"], email, device, body["tokens"]["access_token"])


def received_within(socket: ClientConnection, text: str, seconds: float = 10.0) -> bool:
    """True once a frame carrying `text` arrives (other frames are skipped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frame = socket.recv(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            return False
        if text in (frame if isinstance(frame, str) else frame.decode()):
            return True
    return False


def closed_within(socket: ClientConnection, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.recv(timeout=max(0.05, deadline - time.monotonic()))
        except ConnectionClosed:
            return True
        except TimeoutError:
            return False
    return False
