"""The refresh ledger on PostgreSQL through the asyncpg driver. The common refresh is one
autocommitted statement (rotate if it is a plain rotation); the rest is one SELECT of the
family with its user and one statement recording what the domain decided. SQLAlchemy's
Unit of Work path costs seven round trips and ~2 ms of CPU per refresh."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from asyncpg.exceptions import (
    AdminShutdownError,
    DeadlockDetectedError,
    IntegrityConstraintViolationError,
    PostgresConnectionError,
    SerializationError,
)

from adapters.sql.mappers import row_to_family, row_to_user
from domain.sessions.model import RefreshFamily
from domain.shared.errors import ConcurrentUpdate, Conflict
from domain.users.model import SEEN_GRANULARITY, User, UserStatus

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")

# A family with its user, as both statements below answer it. The queries are put
# together from constants only.
FAMILY_AND_USER = """
    f.id, f.user_id, f.device_id, f.created_at, f.expires_at, f.current_hash, f.generation,
    f.previous_hash, f.rotation_nonce, f.rotated_at, f.revoked_at, f.revoked_reason,
    u.kind, u.status, u.email, u.email_confirmed, u.external_id, u.display_name,
    u.notify_by_email, u.created_at AS user_created_at, u.last_seen_at, u.version"""

FIND = f"""
SELECT {FAMILY_AND_USER}
FROM refresh_tokens AS t
JOIN refresh_families AS f ON f.id = t.family_id
JOIN users AS u ON u.id = f.user_id
WHERE t.hash = $1
"""  # noqa: S608

# RefreshFamily.rotates_on and User.is_active, as one WHERE clause; then rotate_to, the
# issued hash and User.touch. The contract tests hold the two spellings to each other.
ROTATE = f"""
WITH rotated AS (
    UPDATE refresh_families AS f
    SET previous_hash = f.current_hash, current_hash = $3, rotation_nonce = $4,
        rotated_at = $5, generation = f.generation + 1
    FROM refresh_tokens AS t, users AS u
    WHERE t.hash = $1 AND f.id = t.family_id AND f.current_hash = $1
      AND f.device_id = $2 AND f.revoked_at IS NULL AND f.expires_at > $5
      AND u.id = f.user_id AND u.status = $7
    RETURNING {FAMILY_AND_USER}
), issued AS (
    INSERT INTO refresh_tokens (hash, family_id, generation, issued_at)
    SELECT $3, rotated.id, rotated.generation, $5 FROM rotated
), seen AS (
    UPDATE users SET last_seen_at = $5
    FROM rotated
    WHERE users.id = rotated.user_id AND users.last_seen_at <= $6
)
SELECT * FROM rotated
"""  # noqa: S608

# One statement, so one transaction: the generation check, the new state, the issued hashes
# and the user's last-seen time land together or not at all. A revocation is sticky.
RECORD = """
WITH moved AS (
    UPDATE refresh_families
    SET expires_at = $3, current_hash = $4, generation = $5, previous_hash = $6,
        rotation_nonce = $7, rotated_at = $8,
        revoked_at = COALESCE(revoked_at, $9),
        revoked_reason = CASE WHEN revoked_at IS NULL THEN $10 ELSE revoked_reason END
    WHERE id = $1 AND generation = $2
    RETURNING id, user_id
), issued AS (
    INSERT INTO refresh_tokens (hash, family_id, generation, issued_at)
    SELECT issued.hash, moved.id, issued.generation, $11
    FROM moved, unnest($12::varchar[], $13::integer[]) AS issued (hash, generation)
), seen AS (
    UPDATE users SET last_seen_at = $14
    FROM moved
    WHERE users.id = moved.user_id AND $14::timestamptz IS NOT NULL AND users.last_seen_at < $14
)
SELECT count(*) FROM moved
"""

# A connection PostgreSQL dropped (restart, failover, pg_terminate_backend) is replaced by
# the pool; the statement is tried once more on a fresh one. Each is safe to repeat: after
# a rotation that did land, ROTATE misses (and the two-step path hands out the very same
# successor, from the stored nonce) and RECORD fails its generation check.
_DROPPED = (PostgresConnectionError, AdminShutdownError, ConnectionError)
# ROTATE and RECORD lock a family row, then its user's (last-seen): an admin disabling the
# user at that moment locks them the other way round, and PostgreSQL aborts one side.
_RACED = (DeadlockDetectedError, SerializationError)


def _family_and_user(row: Any) -> tuple[RefreshFamily, User]:
    user = row_to_user({**row, "id": row["user_id"], "created_at": row["user_created_at"]})
    return row_to_family(row), user


class AsyncpgRefreshLedger:
    def __init__(self, pool: "asyncpg.Pool") -> None:
        self._pool = pool

    async def rotate(
        self, token_hash: str, device_id: str, successor_hash: str, nonce: bytes, now: datetime
    ) -> tuple[RefreshFamily, User] | None:
        try:
            row = await self._retrying(lambda connection: connection.fetchrow(
                ROTATE, token_hash, device_id, successor_hash, nonce, now,
                now - SEEN_GRANULARITY, UserStatus.ACTIVE.value))
        except _RACED:
            return None  # the two-step path decides
        except IntegrityConstraintViolationError as error:
            raise Conflict() from error
        if row is None:
            return None
        family, user = _family_and_user(row)
        user.touch(now)  # what the statement did; `row` is the user as it was read
        return family, user

    async def find(self, token_hash: str) -> tuple[RefreshFamily, User] | None:
        row = await self._retrying(lambda connection: connection.fetchrow(FIND, token_hash))
        return _family_and_user(row) if row is not None else None

    async def record(
        self, family: RefreshFamily, expected_generation: int, seen_at: datetime | None = None
    ) -> None:
        first_generation = family.generation - len(family.unrecorded_hashes) + 1
        arguments = (
            family.id, expected_generation, family.expires_at, family.current_hash,
            family.generation, family.previous_hash, family.rotation_nonce, family.rotated_at,
            family.revoked_at, family.revoked_reason, family.rotated_at or family.created_at,
            list(family.unrecorded_hashes),
            list(range(first_generation, family.generation + 1)), seen_at,
        )
        try:
            moved = await self._retrying(
                lambda connection: connection.fetchval(RECORD, *arguments))
        except _RACED as error:
            raise ConcurrentUpdate() from error
        except IntegrityConstraintViolationError as error:
            raise Conflict() from error
        if moved == 0:
            raise ConcurrentUpdate()
        family.unrecorded_hashes.clear()

    async def _retrying(self, run: Callable[[Any], Awaitable[T]]) -> T:
        try:
            async with self._pool.acquire() as connection:
                return await run(connection)
        except _DROPPED:
            async with self._pool.acquire() as connection:
                return await run(connection)
