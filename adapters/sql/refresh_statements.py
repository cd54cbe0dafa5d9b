"""The refresh ledger's statements on PostgreSQL (asyncpg's $n placeholders), with the
arguments and the rows each one takes and answers. Put together from constants only."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.sql.mappers import row_to_family
from domain.sessions.model import RefreshFamily
from domain.users.model import SEEN_GRANULARITY, User, UserKind, UserStatus

# A family with its user, as every statement below answers it.
FAMILY_AND_USER = """
    f.id, f.user_id, f.device_id, f.created_at, f.expires_at, f.current_hash, f.generation,
    f.previous_hash, f.rotation_nonce, f.rotated_at, f.revoked_at, f.revoked_reason,
    u.kind, u.status, u.email, u.email_confirmed, u.external_id, u.display_name,
    u.notify_by_email, u.created_at AS user_created_at, u.last_seen_at, u.version"""

# The family $1, with its user.
FIND = f"""
SELECT {FAMILY_AND_USER}
FROM refresh_families AS f
JOIN users AS u ON u.id = f.user_id
WHERE f.id = $1
"""  # noqa: S608

# The family that issued the token of the first format whose hash is $1, with its user.
FIND_BY_FIRST_FORMAT = f"""
SELECT {FAMILY_AND_USER}
FROM refresh_tokens AS t
JOIN refresh_families AS f ON f.id = t.family_id
JOIN users AS u ON u.id = f.user_id
WHERE t.hash = $1
"""  # noqa: S608

# The generation check, RefreshFamily.rotates_on and User.is_active, as one WHERE clause;
# then rotate_to and User.touch: one conditional UPDATE of the family row, nothing inserted.
# For a batch of rotations at once: each wanted row is one presented token. Two wanted rows
# for the same family (racing refreshes) update it once, with one of them; the other gets
# no row back. The contract tests hold the two spellings (this and the domain's) to each
# other.
ROTATE = f"""
WITH wanted AS (
    SELECT * FROM unnest($1::varchar[], $2::integer[], $3::varchar[], $4::varchar[],
                         $5::varchar[], $6::bytea[], $7::timestamptz[], $8::timestamptz[])
        AS w (family_id, generation, token_hash, device_id, successor_hash, nonce, now,
              seen_before)
), rotated AS (
    UPDATE refresh_families AS f
    SET previous_hash = f.current_hash, current_hash = w.successor_hash,
        rotation_nonce = w.nonce, rotated_at = w.now, generation = f.generation + 1
    FROM wanted AS w, users AS u
    WHERE f.id = w.family_id AND f.generation = w.generation
      AND f.current_hash = w.token_hash AND f.device_id = w.device_id
      AND f.revoked_at IS NULL AND f.expires_at > w.now
      AND u.id = f.user_id AND u.status = $9
    RETURNING w.seen_before, {FAMILY_AND_USER}
), seen AS (
    UPDATE users SET last_seen_at = rotated.rotated_at
    FROM rotated
    WHERE users.id = rotated.user_id AND users.last_seen_at <= rotated.seen_before
)
SELECT * FROM rotated
"""  # noqa: S608

# One statement, so one transaction: the generation check, the new state and the user's
# last-seen time land together or not at all. A revocation is sticky.
RECORD = """
WITH moved AS (
    UPDATE refresh_families
    SET expires_at = $3, current_hash = $4, generation = $5, previous_hash = $6,
        rotation_nonce = $7, rotated_at = $8,
        revoked_at = COALESCE(revoked_at, $9),
        revoked_reason = CASE WHEN revoked_at IS NULL THEN $10 ELSE revoked_reason END
    WHERE id = $1 AND generation = $2
    RETURNING id, user_id
), seen AS (
    UPDATE users SET last_seen_at = $11
    FROM moved
    WHERE users.id = moved.user_id AND $11::timestamptz IS NOT NULL AND users.last_seen_at < $11
)
SELECT count(*) FROM moved
"""


@dataclass(frozen=True, slots=True)
class Rotation:
    """One plain rotation asked for, as `RefreshLedger.rotate` takes it."""

    family_id: str
    generation: int
    token_hash: str
    device_id: str
    successor_hash: str
    nonce: bytes
    now: datetime


def rotate_arguments(batch: Sequence[Rotation]) -> tuple[Any, ...]:
    # A last-seen time at or before `seen_before` is one that User.touch(now) moves.
    return (
        [r.family_id for r in batch], [r.generation for r in batch],
        [r.token_hash for r in batch], [r.device_id for r in batch],
        [r.successor_hash for r in batch], [r.nonce for r in batch], [r.now for r in batch],
        [r.now - SEEN_GRANULARITY for r in batch], UserStatus.ACTIVE.value,
    )


def record_arguments(
    family: RefreshFamily, expected_generation: int, seen_at: datetime | None
) -> tuple[Any, ...]:
    return (
        family.id, expected_generation, family.expires_at, family.current_hash,
        family.generation, family.previous_hash, family.rotation_nonce, family.rotated_at,
        family.revoked_at, family.revoked_reason, seen_at,
    )


_KINDS = {kind.value: kind for kind in UserKind}
_STATUSES = {status.value: status for status in UserStatus}


def family_and_user(row: Mapping[str, Any]) -> tuple[RefreshFamily, User]:
    """A row of FAMILY_AND_USER, as the two objects it holds (the user as read).

    The family as `row_to_family` makes it; the user as `row_to_user` would, read straight
    from the row: every rotation maps one, and copying the row into a dict for
    `row_to_user` and calling the enums cost ~4 us of the ~7 (an unknown kind or status
    still raises the enum's ValueError)."""
    family = row_to_family(row)
    kind, status = row["kind"], row["status"]
    user = User(
        id=row["user_id"], kind=_KINDS.get(kind) or UserKind(kind),
        status=_STATUSES.get(status) or UserStatus(status),
        email=row["email"], email_confirmed=row["email_confirmed"],
        external_id=row["external_id"], display_name=row["display_name"],
        notify_by_email=row["notify_by_email"], created_at=row["user_created_at"],
        last_seen_at=row["last_seen_at"], version=row["version"],
    )
    return family, user
