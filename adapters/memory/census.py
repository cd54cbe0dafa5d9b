"""The socket census of one process (`atelier dev`: the gateway mounted beside the console)."""

import time
from collections.abc import Callable


class InMemorySocketCensus:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl, clock
        self._nodes: dict[str, tuple[int, float]] = {}

    async def report(self, node: str, count: int) -> None:
        self._nodes[node] = (count, self._clock() + self._ttl)

    async def leave(self, node: str) -> None:
        self._nodes.pop(node, None)

    async def total(self) -> tuple[int, int]:
        now = self._clock()
        for node in [n for n, (_, until) in self._nodes.items() if until <= now]:
            del self._nodes[node]
        return sum(count for count, _ in self._nodes.values()), len(self._nodes)
