import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from application.ports.messaging import RealtimeBus
from application.ports.storage import StorageProbe

TIMEOUT = 2.0


def readiness_check(
    storage: StorageProbe, redis: Any, bus: RealtimeBus | None
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """What /readyz reports: each dependency `ok` or why not."""

    async def check() -> dict[str, Any]:
        results: dict[str, Any] = {}
        probes: dict[str, Callable[[], Awaitable[Any]]] = {"database": storage.probe}
        if redis is not None:
            probes["redis"] = redis.ping
        for name, probe in probes.items():
            try:
                await asyncio.wait_for(probe(), TIMEOUT)
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"unavailable: {type(exc).__name__}"
        if bus is not None:
            results["realtime_bus"] = "ok" if bus.healthy else "unavailable: subscription down"
        return results

    return check
