"""Account lifecycle: the local identity provider's password-reset and e-mail-change codes.

Revision ID: 0004_account
Revises: 0003_attempts_per_source
Create Date: 2026-11-30

One row per login and purpose ("reset" or "email"): a new request replaces the code in
place, so at most one is live; the attempt count sits on the same row and is taken in one
conditional write. `sent_at`, `window_started_at` and `sent_in_window` hold the
per-address sending limits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_account"
down_revision: str | None = "0003_attempts_per_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "local_codes",
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=True),
        sa.Column("new_email", sa.String(254), nullable=True),
        sa.Column("expires_at", _when(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", _when(), nullable=True),
        sa.Column("window_started_at", _when(), nullable=True),
        sa.Column("sent_in_window", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "purpose", name="pk_local_codes"),
    )


def downgrade() -> None:
    op.drop_table("local_codes")
