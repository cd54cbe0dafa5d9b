"""How many sockets the gateway nodes hold open, counted in one shared place."""

from typing import Protocol


class SocketCensus(Protocol):
    """Each gateway node reports its open-socket count every few seconds; a node that
    stops reporting (stopped, crashed, cut off) drops out once its report expires."""

    async def report(self, node: str, count: int) -> None:
        """`node` holds `count` open sockets now; the report lasts one time-to-live."""
        ...

    async def leave(self, node: str) -> None:
        """`node` stops at once (a clean shutdown), without waiting for its report to expire."""
        ...

    async def total(self) -> tuple[int, int]:
        """(open sockets, gateway nodes) over every node whose report has not expired."""
        ...
