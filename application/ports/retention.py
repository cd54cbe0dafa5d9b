from datetime import datetime
from typing import Protocol


class RetentionStore(Protocol):
    """Deletes rows no rule needs any more. Each call deletes at most `limit` rows in its
    own short transaction and returns how many it deleted; `before` is the cutoff."""

    async def delete_delivered_outbox(self, before: datetime, limit: int) -> int:
        """Outbox rows published before `before`."""
        ...

    async def delete_old_login_attempts(self, before: datetime, limit: int) -> int:
        """Failed-login counts whose last failure and lock-out (if any) both ended before
        `before` (never one that locks); a row without either time counts as old."""
        ...

    async def delete_spent_transfer_codes(self, before: datetime, limit: int) -> int:
        """Transfer codes used, voided or expired before `before`."""
        ...

    async def delete_spent_local_codes(self, before: datetime, limit: int) -> int:
        """Password-reset and e-mail-change codes expired (or spent) and whose send window
        started before `before`."""
        ...

    async def delete_expired_deletion_codes(self, before: datetime, limit: int) -> int:
        """Account-deletion codes expired before `before`."""
        ...

    async def delete_expired_id_token_uses(self, before: datetime, limit: int) -> int:
        """Apple / Google ID tokens held to a device, expired before `before`."""
        ...

    async def delete_issued_hashes_of_expired_families(
        self, before: datetime, limit: int
    ) -> int:
        """Hashes of first-format refresh tokens (nothing adds to them any more) of families
        that expired before `before`."""
        ...

    async def delete_expired_families(self, before: datetime, limit: int) -> int:
        """Refresh families (sessions) that expired before `before`, ended or not."""
        ...

    async def delete_expired_console_sessions(self, before: datetime, limit: int) -> int:
        """Web console sign-ins past their absolute limit before `before` (idle ones end
        on their next use, and are gone here by then)."""
        ...
