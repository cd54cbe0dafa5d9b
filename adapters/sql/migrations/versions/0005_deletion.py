"""Account deletion: the codes the public deletion page e-mails to prove an address.

Revision ID: 0005_deletion
Revises: 0004_account
Create Date: 2026-11-30

One row per member: a new request replaces the code in place, so at most one is live; the
attempt count sits on the same row and is taken in one conditional write. The row goes
with its user (ON DELETE CASCADE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_deletion"
down_revision: str | None = "0004_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deletion_codes",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_deletion_codes_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_deletion_codes"),
    )


def downgrade() -> None:
    op.drop_table("deletion_codes")
