from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float = 0.0


class RateLimiter(Protocol):
    """At most `limit` hits per `period` seconds for `key` (GCRA, shared where it must be)."""

    async def hit(self, key: str, limit: int, period: float) -> RateDecision: ...
