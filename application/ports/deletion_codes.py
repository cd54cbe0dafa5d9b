from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass
class DeletionCode:
    """The code the public deletion page e-mailed to a member (hashed), one per member."""

    user_id: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0


class DeletionCodeStore(Protocol):
    """Each call is its own transaction; a member's code goes with the member."""

    async def save(self, code: DeletionCode) -> None:
        """Writes the code over the member's earlier one (attempts start again)."""
        ...

    async def take_attempt(
        self, user_id: str, now: datetime, max_attempts: int
    ) -> DeletionCode | None:
        """Counts one attempt at a live code in one conditional write and returns the code
        as it stands after it; None when there is none, it expired, or its attempts are
        used up. However many run at once, at most `max_attempts` win."""
        ...

    async def spend(self, user_id: str, code_hash: str) -> bool:
        """Removes the code if it is still `code_hash` (single use); says whether it did."""
        ...
