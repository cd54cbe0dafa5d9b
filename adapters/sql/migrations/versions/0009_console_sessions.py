"""Web console sign-ins: one row per signed-in browser.

Revision ID: 0009_console_sessions
Revises: 0008_id_token_uses
Create Date: 2026-11-30

The browser holds a random session id in a cookie; only its SHA-256 is stored, so a copy of
the table signs nobody in. A session ends at sign-out, after `console_session_idle_minutes`
without a request (last_seen_at) or at expires_at (the absolute limit), whichever comes
first; rows past expires_at can be purged (hence the index). Ending every session of one
admin (disabled, removed) goes by admin_subject.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_console_sessions"
down_revision: str | None = "0008_id_token_uses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id_sha256", sa.String(64), nullable=False),
        sa.Column("admin_subject", sa.String(255), nullable=False),
        sa.Column("admin_source", sa.String(16), nullable=False),
        sa.Column("admin_email", sa.String(254), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("last_seen_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id_sha256", name="pk_console_sessions"),
    )
    op.create_index("ix_console_sessions_admin_subject", "console_sessions", ["admin_subject"])
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("console_sessions")
