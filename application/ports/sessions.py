"""The hot path of a refresh: one atomic step for the common case (a store can serve it in
one round trip), two for the rest."""

from datetime import datetime
from typing import Protocol

from domain.sessions.model import RefreshFamily
from domain.users.model import User


class RefreshLedger(Protocol):
    async def rotate(
        self, token_hash: str, device_id: str, successor_hash: str, nonce: bytes, now: datetime
    ) -> tuple[RefreshFamily, User] | None:
        """The plain rotation, at once: if `RefreshFamily.rotates_on(token_hash, device_id,
        now)` holds and the user is active, the family moves to `successor_hash` (see
        `rotate_to`), the user's last-seen follows `User.touch`, and both are returned as
        stored. Otherwise nothing changes and the answer is None."""
        ...

    async def find(self, token_hash: str) -> tuple[RefreshFamily, User] | None:
        """The family that ever issued this token (current, previous or older), with its
        user; None when no family did."""
        ...

    async def record(
        self, family: RefreshFamily, expected_generation: int, seen_at: datetime | None = None
    ) -> None:
        """Stores the family's new state and the hashes it issued, at once, if its generation
        is still `expected_generation` (else ConcurrentUpdate); a revocation is never undone.
        `seen_at` also moves the user's last-seen time forward."""
        ...
