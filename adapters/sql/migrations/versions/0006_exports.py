"""Data exports (GDPR art. 15 and 20): one row per export a member asked for.

Revision ID: 0006_exports
Revises: 0005_deletion
Create Date: 2026-11-30

At most one export per user is queued or building at a time: a partial unique index holds
that under concurrent requests on both databases. Rows go with their user.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_exports"
down_revision: str | None = "0005_deletion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status IN ('queued', 'building')")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("completed_at", _when(), nullable=True),
        sa.Column("expires_at", _when(), nullable=True),
        sa.Column("object_key", sa.String(512), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_exports_user_id_users", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exports"),
    )
    op.create_index("ix_exports_user_id", "exports", ["user_id"])
    op.create_index(
        "uq_exports_user_id_active", "exports", ["user_id"], unique=True,
        sqlite_where=ACTIVE, postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_table("exports")
