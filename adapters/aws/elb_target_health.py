"""This ECS task's target in an ALB target group: DescribeTargetHealth on its private IP.

The target's id is the task's private IPv4 (target type `ip`), read once from the ECS task
metadata endpoint v4 (`$ECS_CONTAINER_METADATA_URI_V4/task`).
"""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

NOT_REGISTERED = "Target.NotRegistered"
METADATA_TIMEOUT = 2.0


class ElbTargetHealth:
    def __init__(self, client: Any, target_group_arn: str, port: int,
                 target_id: Callable[[], Awaitable[str]]) -> None:
        self._client, self._arn, self._port = client, target_group_arn, port
        self._find_target_id, self._target_id = target_id, ""

    async def state(self) -> str | None:
        if not self._target_id:
            self._target_id = await self._find_target_id()
        found = await self._client.describe_target_health(
            TargetGroupArn=self._arn, Targets=[{"Id": self._target_id, "Port": self._port}])
        for description in found.get("TargetHealthDescriptions", []):
            if description.get("Target", {}).get("Id") != self._target_id:
                continue
            health = description.get("TargetHealth", {})
            if health.get("Reason") == NOT_REGISTERED:
                return None
            return str(health.get("State", "")) or None
        return None


def ecs_task_ipv4(metadata_uri: str) -> Callable[[], Awaitable[str]]:
    """The task's private IPv4 from the task metadata endpoint v4 at `metadata_uri`."""

    async def find() -> str:
        async with httpx.AsyncClient(timeout=METADATA_TIMEOUT) as client:
            response = await client.get(f"{metadata_uri.rstrip('/')}/task")
            response.raise_for_status()
            task = response.json()
        for container in task.get("Containers", []):
            for network in container.get("Networks", []):
                for address in network.get("IPv4Addresses", []):
                    return str(address)
        raise LookupError("the task metadata names no IPv4 address")

    return find
