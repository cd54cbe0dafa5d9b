"""The hot path of a refresh: one atomic step for the common case (a store can serve it in
one round trip), two for the rest."""

from datetime import datetime
from typing import Protocol

from domain.sessions.model import RefreshFamily
from domain.users.model import User


class RefreshLedger(Protocol):
    async def rotate(
        self, family_id: str, generation: int, token_hash: str, device_id: str,
        successor_hash: str, nonce: bytes, now: datetime,
    ) -> tuple[RefreshFamily, User] | None:
        """The plain rotation, at once: if the family is still at `generation`,
        `RefreshFamily.rotates_on(token_hash, device_id, now)` holds and the user is active,
        the family moves to `successor_hash` (see `rotate_to`), the user's last-seen follows
        `User.touch`, and both are returned as stored. Otherwise nothing changes and the
        answer is None."""
        ...

    async def find(self, family_id: str) -> tuple[RefreshFamily, User] | None:
        """The family with its user; None when there is no such family."""
        ...

    async def find_by_first_format(self, token_hash: str) -> tuple[RefreshFamily, User] | None:
        """The family that issued this token of the first format (one naming no family),
        with its user; None when no family did. Such tokens were issued before sealed ones;
        the last of them expire with their families."""
        ...

    async def record(
        self, family: RefreshFamily, expected_generation: int, seen_at: datetime | None = None
    ) -> None:
        """Stores the family's new state at once, if its generation is still
        `expected_generation` (else ConcurrentUpdate); a revocation is never undone.
        `seen_at` also moves the user's last-seen time forward."""
        ...
