"""Login failures counted per address and source; at most one open transfer code per user.

Revision ID: 0003_attempts_per_source
Revises: 0002_admin
Create Date: 2026-11-30

The login counts are short-lived (a lock lasts an hour at most), so the table is made
anew rather than converted: counts start from zero after the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_attempts_per_source"
down_revision: str | None = "0002_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "used_at IS NULL AND voided_at IS NULL"
# Codes issued by racing requests before this revision: the newest stays, the rest are
# voided as of the newest one's issue.
_VOID_ALL_BUT_NEWEST = """
UPDATE transfer_codes SET voided_at = (
    SELECT MAX(newer.created_at) FROM transfer_codes AS newer
    WHERE newer.user_id = transfer_codes.user_id
      AND newer.used_at IS NULL AND newer.voided_at IS NULL)
WHERE used_at IS NULL AND voided_at IS NULL AND EXISTS (
    SELECT 1 FROM transfer_codes AS newer
    WHERE newer.user_id = transfer_codes.user_id
      AND newer.used_at IS NULL AND newer.voided_at IS NULL
      AND (newer.created_at > transfer_codes.created_at
           OR (newer.created_at = transfer_codes.created_at
               AND newer.hash > transfer_codes.hash)))
"""


def _attempts_table(*key: str) -> None:
    columns = [sa.Column("email", sa.String(254), nullable=False)]
    if "source" in key:
        columns.append(sa.Column("source", sa.String(64), nullable=False))
    op.create_table(
        "login_attempts",
        *columns,
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(*key, name="pk_login_attempts"),
    )


def upgrade() -> None:
    op.drop_table("login_attempts")
    _attempts_table("email", "source")
    op.execute(_VOID_ALL_BUT_NEWEST)
    op.create_index(
        "uq_transfer_codes_open_user_id", "transfer_codes", ["user_id"], unique=True,
        postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("uq_transfer_codes_open_user_id", table_name="transfer_codes")
    op.drop_table("login_attempts")
    _attempts_table("email")
