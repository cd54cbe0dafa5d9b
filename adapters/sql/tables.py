"""The schema as SQLAlchemy Core tables; migrations/versions/ must create exactly this."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from adapters.sql.columns import UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def _user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


users = Table(
    "users", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("email", String(254), nullable=True),
    Column("email_confirmed", Boolean, nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("display_name", String(64), nullable=True),
    Column("notify_by_email", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("email"),
    UniqueConstraint("external_id"),
    Index(None, "kind", "last_seen_at"),
)

devices = Table(
    "devices", metadata,
    Column("user_id", String(64), _user_fk(), primary_key=True),
    Column("device_id", String(128), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

refresh_families = Table(
    "refresh_families", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(64), _user_fk(), nullable=False, index=True),
    Column("device_id", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),  # migration 0010
    Column("current_hash", String(128), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("previous_hash", String(128), nullable=True),
    Column("rotation_nonce", LargeBinary, nullable=True),
    Column("rotated_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_reason", String(64), nullable=True),
)

refresh_tokens = Table(
    "refresh_tokens", metadata,
    Column("hash", String(128), primary_key=True),
    Column(
        "family_id", String(64), ForeignKey("refresh_families.id", ondelete="CASCADE"),
        nullable=False, index=True,
    ),
    Column("generation", Integer, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
)

transfer_codes = Table(
    "transfer_codes", metadata,
    Column("hash", String(128), primary_key=True),
    Column("user_id", String(64), _user_fk(), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("voided_at", UtcDateTime, nullable=True),
    # At most one open code per user, whatever races (migration 0003).
    Index(
        "uq_transfer_codes_open_user_id", "user_id", unique=True,
        postgresql_where=text("used_at IS NULL AND voided_at IS NULL"),
        sqlite_where=text("used_at IS NULL AND voided_at IS NULL"),
    ),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("email", String(254), primary_key=True),
    # The client's address, or "*" for the count over every address (migration 0003).
    Column("source", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("last_failed_at", UtcDateTime, nullable=True),  # migration 0010
)

local_credentials = Table(
    "local_credentials", metadata,
    Column("email", String(254), primary_key=True),
    Column("subject", String(255), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("code_hash", String(128), nullable=True),
    Column("code_expires_at", UtcDateTime, nullable=True),
    Column("code_attempts", Integer, nullable=False),
)

# Password-reset and e-mail-change codes of the local identity provider (migration
# 0004_account): one row per login and purpose, replaced in place by a new request.
local_codes = Table(
    "local_codes", metadata,
    Column("subject", String(255), primary_key=True),
    Column("purpose", String(16), primary_key=True),
    Column("code_hash", String(128), nullable=True),
    Column("new_email", String(254), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("window_started_at", UtcDateTime, nullable=True),
    Column("sent_in_window", Integer, nullable=False),
)

# Codes the public account-deletion page e-mails (migration 0005_deletion): one per member.
deletion_codes = Table(
    "deletion_codes", metadata,
    Column("user_id", String(64), _user_fk(), primary_key=True),
    Column("code_hash", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
)

# Sign in with Apple / Google (migration 0007_identities): one row per (provider, subject).
identities = Table(
    "identities", metadata,
    Column("provider", String(16), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user_id", String(64), _user_fk(), nullable=False),
    Column("email", String(254), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("user_id", "provider"),
)

# Accepted Apple / Google ID tokens (migration 0008_id_token_uses): each held to the device
# it was first used from until it expires; rows past expires_at can be purged.
id_token_uses = Table(
    "id_token_uses", metadata,
    Column("provider", String(16), primary_key=True),
    Column("token_sha256", String(64), primary_key=True),
    Column("device_id", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
)

# Data exports (migration 0006_exports): at most one queued or building per user.
exports = Table(
    "exports", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(64), _user_fk(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("object_key", String(512), nullable=True),
    Index(None, "user_id"),
    Index(
        "uq_exports_user_id_active", "user_id", unique=True,
        postgresql_where=text("status IN ('queued', 'building')"),
        sqlite_where=text("status IN ('queued', 'building')"),
    ),
)

images = Table(
    "images", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(64), _user_fk(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("size", String(16), nullable=False),
    Column("quality", String(16), nullable=False),
    Column("object_key", String(512), nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("idempotency_key", String(255), nullable=True),
    Column("notify_by_email", Boolean, nullable=False, server_default=false()),
    Column("hidden", Boolean, nullable=False, server_default=false()),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    UniqueConstraint("user_id", "idempotency_key"),
    Index(None, "user_id", "created_at"),
    Index(None, "status", "updated_at"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", String(64), primary_key=True),
    Column("topic", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Index(
        "ix_outbox_unpublished", "created_at",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

# The admin API's own tables (migration 0002_admin).
admin_accounts = Table(
    "admin_accounts", metadata,
    Column("id", String(64), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled", Boolean, nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    # BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(300), nullable=False),
    Column("actor_email", String(254), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(300), nullable=False),
    Column("source_ip", String(64), nullable=True),
    Column("details", JSON, nullable=False),
    Index(None, "target_id", "seq"),
    Index(None, "action", "seq"),
)

# Web console sign-ins (migration 0009_console_sessions): only the SHA-256 of the cookie's
# session id is stored; rows past expires_at can be purged.
console_sessions = Table(
    "console_sessions", metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("admin_subject", String(255), nullable=False),
    Column("admin_source", String(16), nullable=False),
    Column("admin_email", String(254), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "admin_subject"),
    Index(None, "expires_at"),
)
