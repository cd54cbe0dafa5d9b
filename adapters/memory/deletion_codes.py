"""The public deletion page's codes in the in-memory database (one per member, going with
the member as the SQL table's foreign key makes them)."""

import copy
import dataclasses
from datetime import datetime

from adapters.memory.database import InMemoryDatabase
from application.ports.deletion_codes import DeletionCode


class InMemoryDeletionCodeStore:
    """Each call is its own transaction under the database's lock, like a Unit of Work."""

    def __init__(self, database: InMemoryDatabase) -> None:
        self._db = database

    async def save(self, code: DeletionCode) -> None:
        async with self._db.lock:
            if code.user_id not in self._db.tables.users:
                raise LookupError("no such user")  # what the foreign key refuses
            self._db.tables.deletion_codes[code.user_id] = copy.copy(code)

    async def take_attempt(
        self, user_id: str, now: datetime, max_attempts: int
    ) -> DeletionCode | None:
        async with self._db.lock:
            code = self._db.tables.deletion_codes.get(user_id)
            if code is None or code.attempts >= max_attempts or code.expires_at <= now:
                return None
            code.attempts += 1
            return dataclasses.replace(code)

    async def spend(self, user_id: str, code_hash: str) -> bool:
        async with self._db.lock:
            code = self._db.tables.deletion_codes.get(user_id)
            if code is None or code.code_hash != code_hash:
                return False
            del self._db.tables.deletion_codes[user_id]
            return True
