"""Retention deletes on the in-memory database, batch by batch under its lock."""

from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

from adapters.memory.database import InMemoryDatabase
from application.ports.retention import RetentionStore


class InMemoryRetentionStore:
    """Local and deletion codes have no table in the in-memory database (the local identity
    provider keeps its own store), so there is nothing of theirs to delete here."""

    def __init__(self, database: InMemoryDatabase) -> None:
        self._db = database

    async def _delete(
        self, rows: MutableMapping[Any, Any], dead: Callable[[Any], bool], limit: int
    ) -> int:
        async with self._db.lock:
            doomed = [key for key, row in rows.items() if dead(row)][:limit]
            for key in doomed:
                del rows[key]
        return len(doomed)

    async def delete_delivered_outbox(self, before: datetime, limit: int) -> int:
        return await self._delete(
            self._db.tables.outbox,
            lambda r: r.published_at is not None and r.published_at < before, limit)

    async def delete_old_login_attempts(self, before: datetime, limit: int) -> int:
        return await self._delete(
            self._db.tables.login_attempts,
            lambda r: (r.locked_until is None or r.locked_until < before)
            and (r.last_failed_at is None or r.last_failed_at < before), limit)

    async def delete_spent_transfer_codes(self, before: datetime, limit: int) -> int:
        return await self._delete(
            self._db.tables.transfer_codes,
            lambda r: (r.used_at is not None and r.used_at < before)
            or (r.voided_at is not None and r.voided_at < before) or r.expires_at < before,
            limit)

    async def delete_spent_local_codes(self, before: datetime, limit: int) -> int:
        return 0

    async def delete_expired_deletion_codes(self, before: datetime, limit: int) -> int:
        return 0

    async def delete_expired_id_token_uses(self, before: datetime, limit: int) -> int:
        return await self._delete(
            self._db.tables.id_token_uses, lambda use: use[1] < before, limit)

    async def delete_issued_hashes_of_expired_families(
        self, before: datetime, limit: int
    ) -> int:
        sessions = self._db.tables.sessions
        return await self._delete(
            self._db.tables.token_hashes,
            lambda family_id: family_id in sessions and sessions[family_id].expires_at < before,
            limit)

    async def delete_expired_families(self, before: datetime, limit: int) -> int:
        return await self._delete(
            self._db.tables.sessions, lambda r: r.expires_at < before, limit)

    async def delete_expired_console_sessions(self, before: datetime, limit: int) -> int:
        return await self._delete(
            self._db.tables.console_sessions, lambda s: s.expires_at < before, limit)


_satisfies_port: type[RetentionStore] = InMemoryRetentionStore
