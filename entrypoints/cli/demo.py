"""`atelier demo`: a phone's day against a running stack, each step timed.

guest -> realtime socket -> generate -> `image.ready` arrives -> download -> upgrade ->
transfer to a new device -> reset the forgotten password -> delete the account. Exits
non-zero at the first step
that fails. The codes the stack mails are read from the local mailbox
(`$ATELIER_DATA_DIR/mailbox`, `atelier dev`'s); without one the reset stops at the request.
"""

import asyncio
import email as mail
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

API = "/v1/api"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T = TypeVar("T")


class DemoFailed(Exception):
    pass


def _device() -> str:
    return "DEMO-" + secrets.token_hex(10).upper()


def _check(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise DemoFailed(f"{response.request.method} {response.request.url.path} answered "
                         f"{response.status_code}, not {status}: {response.text[:300]}")
    return response.json() if response.content else {}


class Demo:
    def __init__(self, client: httpx.AsyncClient, timeout: float) -> None:
        self.client, self.timeout = client, timeout
        self.step = 0
        self.started = time.perf_counter()

    async def run(self, name: str, action: Callable[[], Awaitable[T]]) -> T:
        self.step += 1
        began = time.perf_counter()
        try:
            result = await asyncio.wait_for(action(), self.timeout)
        except TimeoutError:
            raise DemoFailed(f"step {self.step} ({name}) took longer than {self.timeout} s") \
                from None
        elapsed = (time.perf_counter() - began) * 1000
        print(f"  {self.step}. {name:<44} {elapsed:8.1f} ms", flush=True)
        return result


async def play(base_url: str, step_timeout: float) -> None:
    import websockets

    async with httpx.AsyncClient(base_url=base_url, timeout=step_timeout) as client:
        demo = Demo(client, step_timeout)
        phone = _device()
        print(f"atelier demo against {base_url}")

        guest = await demo.run("create a guest", lambda: _post(client, "/guests", {
            "device_id": phone, "platform": "ios"}, 201))
        tokens = guest["tokens"]

        def auth() -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens['access_token']}"}

        realtime = await demo.run("get a realtime token", lambda: _post(
            client, "/realtime/token", None, 200, auth()))
        socket = await demo.run("open the realtime socket", lambda: websockets.connect(
            f"{realtime['url']}?token={realtime['token']}", open_timeout=step_timeout))
        try:
            accepted = await demo.run("request an image", lambda: _post(
                client, "/images", {"prompt": "a lighthouse in a storm, oil on canvas",
                                    "quality": "low"}, 202,
                {**auth(), "Idempotency-Key": secrets.token_hex(8)}))
            image_id = accepted["id"]

            async def image_ready() -> dict[str, Any]:
                async for frame in socket:
                    message = json.loads(frame)
                    data = message.get("data", message)
                    if data.get("type") == "image.ready" and data.get("id") == image_id:
                        return dict(data)
                raise DemoFailed("the realtime socket closed before image.ready")

            ready = await demo.run("receive image.ready on the socket", image_ready)
        finally:
            await socket.close()

        async def download() -> int:
            url = str(ready.get("url") or "")
            if url.startswith("/"):
                url = base_url.rstrip("/") + url
            if not url:
                shown = _check(await client.get(f"{API}/images/{image_id}", headers=auth()), 200)
                url = shown["url"]
            picture = await client.get(url)
            if picture.status_code != 200 or not picture.content.startswith(PNG_SIGNATURE):
                raise DemoFailed(f"download answered {picture.status_code}, not a PNG")
            return len(picture.content)

        size = await demo.run("download the picture", download)
        print(f"     ({size:,} bytes of PNG)")

        email, password = f"demo-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
        upgraded = await demo.run("upgrade the guest to a member", lambda: _post(
            client, "/accounts", {"email": email, "password": password,
                                  "device_id": phone, "platform": "ios"}, 201, auth()))
        if upgraded["user"]["id"] != guest["user"]["id"]:
            raise DemoFailed("the upgrade changed the user id")
        tokens = upgraded["tokens"]

        issued = await demo.run("issue a transfer code", lambda: _post(
            client, "/transfer-codes", None, 201, auth()))
        new_phone = _device()
        moved = await demo.run("redeem it on a new phone", lambda: _post(
            client, "/transfer-codes/redeem", {"code": issued["code"], "device_id": new_phone,
                                               "platform": "android"}, 200))
        listed = await demo.run("list images on the new phone", lambda: _get(
            client, "/images", {"Authorization": f"Bearer {moved['tokens']['access_token']}"}))
        if image_id not in [item["id"] for item in listed["items"]]:
            raise DemoFailed("the image did not move with the account")
        reset = await _reset_password(demo, client, email, step_timeout)
        password, session = reset if reset is not None else (password, moved)
        await _delete_account(demo, client, session["tokens"]["access_token"], password)
        total = (time.perf_counter() - demo.started) * 1000
        print(f"done: every step passed in {total:.0f} ms")


async def _reset_password(
    demo: Demo, client: httpx.AsyncClient, email: str, step_timeout: float
) -> tuple[str, dict[str, Any]] | None:
    """The member forgot the password: confirm the address, ask for a code, set a new
    password with it, log in with that."""
    mailbox = Path(os.environ.get("ATELIER_DATA_DIR", ".atelier")) / "mailbox"
    if not mailbox.is_dir():
        await demo.run("ask for a password reset", lambda: _post(
            client, "/accounts/password-reset", {"email": email}, 202))
        print(f"     (the code went by e-mail; no local mailbox at {mailbox} to read it)")
        return None
    await demo.run("confirm the e-mail address", lambda: _post(
        client, "/accounts/confirm",
        {"email": email, "code": _mailed_code(mailbox, email, "confirmation")}, 200))
    await demo.run("ask for a password reset", lambda: _post(
        client, "/accounts/password-reset", {"email": email}, 202))

    async def reset_code() -> str:
        while True:  # the reset mail leaves after the answer
            try:
                return _mailed_code(mailbox, email, "reset")
            except DemoFailed:
                await asyncio.sleep(0.1)

    code = await demo.run("read the reset code from the mailbox", reset_code)
    password = secrets.token_urlsafe(12)
    await demo.run("set a new password with the code", lambda: _post(
        client, "/accounts/password-reset/confirm",
        {"email": email, "code": code, "password": password}, 200))
    session = await demo.run("log in with the new password", lambda: _post(
        client, "/sessions", {"email": email, "password": password, "device_id": _device(),
                              "platform": "ios"}, 200))
    return password, session


async def _delete_account(
    demo: Demo, client: httpx.AsyncClient, access_token: str, password: str
) -> None:
    """The member leaves: DELETE /me with the password; the token stops working at once."""
    auth = {"Authorization": f"Bearer {access_token}"}

    async def delete() -> None:
        _check(await client.request("DELETE", f"{API}/me", json={"password": password},
                                    headers=auth), 202)

    async def refused() -> None:
        _check(await client.get(f"{API}/me", headers=auth), 401)

    await demo.run("delete the account", delete)
    await demo.run("its token is refused", refused)


def _mailed_code(mailbox: Path, to: str, subject_word: str) -> str:
    for path in sorted(mailbox.glob("*.eml"), reverse=True):
        message = mail.message_from_bytes(path.read_bytes())
        if message["To"] != to or subject_word not in str(message["Subject"]).lower():
            continue
        body = message.get_payload(decode=True)
        found = re.search(r"\b(\d{6})\b", body.decode() if isinstance(body, bytes) else "")
        if found:
            return found.group(1)
    raise DemoFailed(f"no {subject_word} code for {to} in {mailbox}")


async def _post(
    client: httpx.AsyncClient, path: str, body: dict[str, Any] | None, status: int,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    return _check(await client.post(f"{API}{path}", json=body, headers=headers), status)


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return _check(await client.get(f"{API}{path}", headers=headers), 200)


async def run_demo(base_url: str, step_timeout: float = 60.0) -> int:
    try:
        await play(base_url, step_timeout)
    except DemoFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    except (httpx.HTTPError, OSError) as error:
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return 1
    except Exception as error:  # the websocket library's handshake errors among others
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return 1
    return 0
