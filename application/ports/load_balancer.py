"""This node's target in its load balancer, as the balancer sees it."""

from typing import Protocol

DRAINING = "draining"


class TargetHealth(Protocol):
    """The state of this node's target in its target group (`healthy`, `draining`, ...),
    or None while the target is not registered there."""

    async def state(self) -> str | None:
        """Asks the balancer now; raises when it cannot tell (unreachable, refused)."""
        ...
