"""Initial schema: users, devices, sessions, transfer codes, login attempts, local
credentials, images and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("email_confirmed", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("display_name", sa.String(64), nullable=True),
        sa.Column("notify_by_email", sa.Boolean(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("last_seen_at", _when(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.UniqueConstraint("external_id", name="uq_users_external_id"),
    )
    op.create_index("ix_users_kind_last_seen_at", "users", ["kind", "last_seen_at"])

    op.create_table(
        "devices",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("last_seen_at", _when(), nullable=False),
        sa.Column("revoked_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "device_id", name="pk_devices"),
        _user_fk("devices"),
    )

    op.create_table(
        "refresh_families",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("current_hash", sa.String(128), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("previous_hash", sa.String(128), nullable=True),
        sa.Column("rotation_nonce", sa.LargeBinary(), nullable=True),
        sa.Column("rotated_at", _when(), nullable=True),
        sa.Column("revoked_at", _when(), nullable=True),
        sa.Column("revoked_reason", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_families"),
        _user_fk("refresh_families"),
    )
    op.create_index("ix_refresh_families_user_id", "refresh_families", ["user_id"])

    op.create_table(
        "refresh_tokens",
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("issued_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["family_id"], ["refresh_families.id"],
            name="fk_refresh_tokens_family_id_refresh_families", ondelete="CASCADE",
        ),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])

    op.create_table(
        "transfer_codes",
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("used_at", _when(), nullable=True),
        sa.Column("voided_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("hash", name="pk_transfer_codes"),
        _user_fk("transfer_codes"),
    )
    op.create_index("ix_transfer_codes_user_id", "transfer_codes", ["user_id"])

    op.create_table(
        "login_attempts",
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", _when(), nullable=True),
        sa.PrimaryKeyConstraint("email", name="pk_login_attempts"),
    )

    op.create_table(
        "local_credentials",
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=True),
        sa.Column("code_expires_at", _when(), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("email", name="pk_local_credentials"),
        sa.UniqueConstraint("subject", name="uq_local_credentials_subject"),
    )

    op.create_table(
        "images",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("size", sa.String(16), nullable=False),
        sa.Column("quality", sa.String(16), nullable=False),
        sa.Column("object_key", sa.String(512), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("notify_by_email", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("completed_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_images"),
        sa.UniqueConstraint(
            "user_id", "idempotency_key", name="uq_images_user_id_idempotency_key"),
        _user_fk("images"),
    )
    op.create_index("ix_images_user_id_created_at", "images", ["user_id", "created_at"])
    op.create_index("ix_images_status_updated_at", "images", ["status", "updated_at"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("published_at", _when(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["created_at"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_images_status_updated_at", table_name="images")
    op.drop_index("ix_images_user_id_created_at", table_name="images")
    op.drop_table("images")
    op.drop_table("local_credentials")
    op.drop_table("login_attempts")
    op.drop_index("ix_transfer_codes_user_id", table_name="transfer_codes")
    op.drop_table("transfer_codes")
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_refresh_families_user_id", table_name="refresh_families")
    op.drop_table("refresh_families")
    op.drop_table("devices")
    op.drop_index("ix_users_kind_last_seen_at", table_name="users")
    op.drop_table("users")
