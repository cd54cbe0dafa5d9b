"""Linked sign-in identities: Sign in with Apple and Google.

Revision ID: 0007_identities
Revises: 0006_exports
Create Date: 2026-11-30

One row per (provider, subject): the primary key is what makes twenty concurrent first
sign-ins with the same new Apple or Google account create one user. A user holds at most
one identity per provider. The e-mail is what the provider said on first sign-in (Apple
sends it only then); the row goes with its user (ON DELETE CASCADE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_identities"
down_revision: str | None = "0006_exports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_identities_user_id_users", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider", "subject", name="pk_identities"),
        sa.UniqueConstraint("user_id", "provider", name="uq_identities_user_id_provider"),
    )


def downgrade() -> None:
    op.drop_table("identities")
