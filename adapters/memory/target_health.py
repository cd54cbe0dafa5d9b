"""A target group of one target, held in memory: tests set what the balancer would say."""


class InMemoryTargetHealth:
    def __init__(self, state: str | None = None) -> None:
        self.current: str | None = state
        self.failing: Exception | None = None
        self.asked = 0

    def set(self, state: str | None) -> None:
        """`healthy`, `draining`, ... or None: not registered."""
        self.current = state

    def fail(self, error: Exception | None) -> None:
        """Every question raises `error` until it is None again."""
        self.failing = error

    async def state(self) -> str | None:
        self.asked += 1
        if self.failing is not None:
            raise self.failing
        return self.current
