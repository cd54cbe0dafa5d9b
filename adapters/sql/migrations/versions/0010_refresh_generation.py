"""Refresh tokens that name their family and generation; retention's scans indexed; login
failure counts that age.

Revision ID: 0010_refresh_generation
Revises: 0009_console_sessions
Create Date: 2026-11-30

Refresh tokens are now sealed (`v2.<family>.<generation>.<secret>.<mac>`): reuse detection
reads the family row alone (its generation, the hashes of its current and previous
secrets, all columns it already had), so a refresh is one conditional UPDATE and nothing
is recorded per rotation. refresh_tokens is kept, read only: the hashes of tokens issued
before this revision, so those tokens keep working (each is exchanged for a sealed token
of the same family at its next refresh) and a replayed one still ends its family. Nothing
is added to it any more; maintenance empties it as its families expire (30 days), and a
later release drops it.

Maintenance deletes expired families by expires_at, hence the index. login_attempts gets
last_failed_at so a count below the lock-out threshold is forgotten once it is old (rows
present now count from the upgrade).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010_refresh_generation"
down_revision: str | None = "0009_console_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_refresh_families_expires_at", "refresh_families", ["expires_at"])
    with op.batch_alter_table("login_attempts") as batch:
        batch.add_column(sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True))
    attempts = sa.table("login_attempts", sa.column("last_failed_at", sa.DateTime(timezone=True)))
    op.get_bind().execute(attempts.update().values(last_failed_at=datetime.now(UTC)))


def downgrade() -> None:
    # Sealed refresh tokens issued since the upgrade are unknown to the code before it:
    # their sessions end at their next refresh (a new log-in).
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_column("last_failed_at")
    op.drop_index("ix_refresh_families_expires_at", table_name="refresh_families")
