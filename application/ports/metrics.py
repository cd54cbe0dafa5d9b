"""What the use cases count for the operators' dashboards, each outcome from a fixed list."""

from typing import Literal, Protocol

RefreshOutcome = Literal[
    "rotated",          # the current token, rotated (the common case)
    "raced",            # a racing or retried refresh inside the reuse interval, converged
    "reused",           # a replay after the reuse interval: the family is ended
    "expired",          # the family's lifetime is over
    "revoked",          # the family was ended before (log-out, reuse, revocation)
    "device_mismatch",  # presented from another device: the family is ended
    "disabled",         # the account is disabled
    "invalid",          # unknown, malformed or too long
    "conflict",         # lost every attempt to concurrent writers
]
REFRESH_OUTCOMES: tuple[RefreshOutcome, ...] = (
    "rotated", "raced", "reused", "expired", "revoked", "device_mismatch", "disabled",
    "invalid", "conflict")

class Metrics(Protocol):
    """Counters the use cases move; the adapter decides where they go (or nowhere)."""

    def refresh_finished(self, outcome: RefreshOutcome) -> None: ...
