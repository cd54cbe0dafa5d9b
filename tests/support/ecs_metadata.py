"""A stand-in for the ECS task metadata endpoint v4 (`$ECS_CONTAINER_METADATA_URI_V4`):
`GET .../task` names the task's private IPv4, as on Fargate (awsvpc)."""

import json
from typing import Any

from tests.support.server import lifespan_done


class TaskMetadata:
    def __init__(self, ip: str) -> None:
        self.ip, self.asked = ip, 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan_done(receive, send)
            return
        self.asked += 1
        found = scope["path"].endswith("/task")
        body = json.dumps({"Containers": [{"Name": "gateway", "Networks": [{
            "NetworkMode": "awsvpc", "IPv4Addresses": [self.ip]}]}]} if found else {})
        await send({"type": "http.response.start", "status": 200 if found else 404,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})
