from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.retention import RetentionStore

BATCH = 1_000
GRACE = timedelta(days=1)
"""How long a row stays after the last rule that reads it is done with it."""
SEND_WINDOW = timedelta(days=1)
"""A password-reset or e-mail-change code row also counts the sends of its day."""

DeleteBatch = Callable[[datetime, int], Awaitable[int]]


class RunRetention:
    """Deletes, in small batches, what no rule needs any more; returns rows deleted per
    table. Safe to run on a schedule and to interrupt: each batch commits on its own."""

    def __init__(self, store: RetentionStore, clock: Clock, batch: int = BATCH) -> None:
        self._store, self._clock, self._batch = store, clock, batch

    async def __call__(
        self, progress: Callable[[str, int], None] | None = None
    ) -> dict[str, int]:
        cutoff = self._clock() - GRACE
        store = self._store
        # A family row stays until its own expiry, ended or not: a replayed token of it must
        # be recognised (and refused) by reuse detection until then. Sealed tokens need
        # nothing else; the hashes of first-format tokens go with their families.
        steps: list[tuple[str, DeleteBatch, datetime]] = [
            ("outbox", store.delete_delivered_outbox, cutoff),
            ("login_attempts", store.delete_old_login_attempts, cutoff),
            ("transfer_codes", store.delete_spent_transfer_codes, cutoff),
            ("local_codes", store.delete_spent_local_codes, cutoff - SEND_WINDOW),
            ("deletion_codes", store.delete_expired_deletion_codes, cutoff),
            ("id_token_uses", store.delete_expired_id_token_uses, cutoff),
            ("refresh_tokens", store.delete_issued_hashes_of_expired_families, cutoff),
            ("refresh_families", store.delete_expired_families, cutoff),
            ("console_sessions", store.delete_expired_console_sessions, cutoff),
        ]
        deleted: dict[str, int] = {}
        for table, delete_batch, before in steps:
            deleted[table] = 0
            while True:
                count = await delete_batch(before, self._batch)
                deleted[table] += count
                if progress is not None and count:
                    progress(table, deleted[table])
                if count < self._batch:
                    break
        return deleted
