"""GCRA rate limiting in one process (the embedded default and tests)."""

import time
from collections.abc import Callable

from application.ports.limits import RateDecision

MIN_SWEEP = 1024
EPSILON = 1e-9  # float sums of period / limit must not deny the last hit of a burst


class InMemoryRateLimiter:
    """At most `limit` hits per `period` seconds per key, bursts of up to `limit` allowed.

    Stores one theoretical arrival time (TAT) per key. Keys whose TAT is in the past are
    indistinguishable from new ones and are swept out, so memory follows the live keys.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._sweep_at = MIN_SWEEP

    async def hit(self, key: str, limit: int, period: float) -> RateDecision:
        if limit <= 0 or period <= 0:
            raise ValueError("limit and period must be positive")
        now = self._clock()
        interval = period / limit
        tat = max(self._tats.get(key, now), now)
        allow_at = tat + interval - period
        if allow_at - now > EPSILON:
            return RateDecision(allowed=False, retry_after=allow_at - now)
        self._tats[key] = tat + interval
        if len(self._tats) >= self._sweep_at:
            self._sweep(now)
        return RateDecision(allowed=True)

    def __len__(self) -> int:
        return len(self._tats)

    def _sweep(self, now: float) -> None:
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
        # Doubling keeps sweeping amortised O(1) per hit however many keys are live.
        self._sweep_at = max(MIN_SWEEP, 2 * len(self._tats))
