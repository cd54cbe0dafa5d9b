"""A local HTTP server speaking the OpenAI images API, answering from a script."""

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.server import lifespan_done, request_body

PNG = b"\x89PNG\r\n\x1a\n fake picture"


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def success(png: bytes = PNG) -> Answer:
    return Answer(200, {"created": 1, "data": [{"b64_json": base64.b64encode(png).decode()}]})


def rate_limited(retry_after: str = "1") -> Answer:
    return Answer(429, {"error": {"message": "Rate limit reached", "type": "requests",
                                  "code": "rate_limit_exceeded"}}, {"retry-after": retry_after})


def server_error() -> Answer:
    return Answer(500, {"error": {"message": "The server had an error", "type": "server_error"}})


def content_policy() -> Answer:
    return Answer(400, {"error": {
        "message": "Your request was rejected as a result of our safety system.",
        "type": "image_generation_user_error", "code": "moderation_blocked"}})


def hang(seconds: float = 30.0) -> Answer:
    return Answer(200, success().body, delay=seconds)


class FakeImagesApi:
    """ASGI app: each POST /v1/images/generations takes the next scripted answer
    (the default answer once the script is used up)."""

    def __init__(self, *script: Answer, default: Callable[[], Answer] = success) -> None:
        self.script = list(script)
        self.default = default
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan_done(receive, send)
            return
        body = await request_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"path": scope["path"], "json": json.loads(body or b"{}"),
                              "authorization": headers.get("authorization")})
        answer = self.script.pop(0) if self.script else self.default()
        if scope["path"] != "/v1/images/generations":
            answer = Answer(404, {"error": {"message": "not found"}})
        if answer.delay:
            await asyncio.sleep(answer.delay)
        payload = json.dumps(answer.body or {}).encode()
        await send({"type": "http.response.start", "status": answer.status, "headers": [
            (b"content-type", b"application/json"),
            *[(k.encode(), v.encode()) for k, v in answer.headers.items()]]})
        await send({"type": "http.response.body", "body": payload})
