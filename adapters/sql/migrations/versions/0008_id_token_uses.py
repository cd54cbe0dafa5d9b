"""Accepted Apple and Google ID tokens, each held to the device it was first used from.

Revision ID: 0008_id_token_uses
Revises: 0007_identities
Create Date: 2026-11-30

The primary key (provider, SHA-256 of the token) is what makes twenty concurrent uses of one
stolen token from twenty devices admit one device: the first insert wins, the others find
its device. The token itself is never stored. A row matters only until the token's own
expiry: the maintenance command can purge rows past expires_at (hence the index).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_id_token_uses"
down_revision: str | None = "0007_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "id_token_uses",
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "token_sha256", name="pk_id_token_uses"),
    )
    op.create_index("ix_id_token_uses_expires_at", "id_token_uses", ["expires_at"])


def downgrade() -> None:
    op.drop_table("id_token_uses")
