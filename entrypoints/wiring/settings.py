"""Settings for every entrypoint: environment variables, built in the composition root."""

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.auth.policy import AuthPolicy
from application.images.policy import ImagePolicy
from domain.images.quota import DailyQuota
from domain.keys.model import RotationPolicy
from domain.users.lockout import LockoutPolicy

REFERENCE_PREFIXES = ("ssm:", "secretsmanager:")


def _env(name: str) -> AliasChoices:
    """`ATELIER_<NAME>` always works; the usual unprefixed name too."""
    return AliasChoices(f"ATELIER_{name}", name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_", extra="ignore", populate_by_name=True)

    # where things are
    data_dir: Path = Path(".atelier")
    database_url: str | None = Field(default=None, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(default=None, validation_alias=_env("REDIS_URL"))
    openai_api_key: str | None = Field(default=None, validation_alias=_env("OPENAI_API_KEY"))
    aws_region: str = Field(default="us-east-1", validation_alias=_env("AWS_REGION"))
    aws_endpoint_url: str | None = Field(default=None, validation_alias=_env("AWS_ENDPOINT_URL"))
    issuer: str = "http://127.0.0.1:8000"
    public_url: str | None = None
    realtime_url: str | None = None

    # identity
    identity_provider: Literal["local", "cognito"] = "local"
    cognito_user_pool_id: str | None = None
    cognito_client_id: str | None = None
    cognito_client_secret: str | None = None
    password_hash_memory_kib: int = 65536
    password_hash_time_cost: int = 3

    # signing keys
    keystore: Literal["file", "memory", "secretsmanager"] = "file"
    keystore_secret_id: str = "atelier/signing-keys"
    key_refresh_seconds: float = 10.0
    jwks_max_age_seconds: int = 300
    key_margin_seconds: int = 300
    key_rotate_every_days: float = 7.0
    token_leeway_seconds: int = 60

    # lifetimes
    access_token_ttl_seconds: int = 3600
    connection_token_ttl_seconds: int = 60
    refresh_token_ttl_days: float = 30.0
    reuse_interval_seconds: float = 10.0
    transfer_code_ttl_seconds: int = 86400
    guest_inactivity_days: float = 90.0
    lockout_threshold: int = 5  # failures in a row per account and client address
    lockout_account_threshold: int = 50  # per account, from every address together
    lockout_base_seconds: float = 30.0
    auth_cache_seconds: float = 5.0

    # per-IP rate limits (per minute unless named otherwise)
    rate_limit_default_per_minute: int = 300
    rate_limit_guests_per_minute: int = 30
    rate_limit_sessions_per_minute: int = 10
    rate_limit_redeem_per_minute: int = 10
    rate_limit_redeem_global_per_hour: int = 1000
    trusted_proxy_hops: int = 0

    # mail
    ses_sender: str | None = None

    # images: storage, queue, generator (unset: files, a local durable queue, Pillow)
    s3_bucket: str | None = None
    sqs_queue_url: str | None = None
    sqs_dlq_url: str | None = None  # default: the queue's redrive policy target
    image_generator: Literal["local", "openai"] | None = None  # default: openai with a key
    openai_base_url: str = "https://api.openai.com"
    openai_timeout_seconds: float = 120.0
    local_generator_delay_seconds: float = 0.0
    image_quota_guest_per_day: int = 10
    image_quota_member_per_day: int = 50
    image_url_ttl_seconds: int = 300
    job_visibility_timeout_seconds: float = 60.0
    job_max_receives: int = 5  # SQS: the redrive policy's maxReceiveCount
    job_retry_base_seconds: float = 2.0
    job_retry_cap_seconds: float = 300.0
    worker_concurrency: int = 4
    worker_wait_seconds: float = 20.0
    outbox_poll_seconds: float = 1.0

    # sign-up screening (Cognito pre sign-up trigger, and the local provider's hook)
    blocked_email_domains: str = ""  # comma-separated, e.g. "mailinator.com,yopmail.com"

    # Sign in with Apple and Google (a provider without client ids is off)
    apple_client_ids: str | None = None  # comma-separated: the app's bundle id, services ids
    apple_issuer: str = "https://appleid.apple.com"
    apple_jwks_url: str = "https://appleid.apple.com/auth/keys"
    google_client_ids: str | None = None  # comma-separated OAuth client ids (iOS, Android, web)
    google_issuers: str = "https://accounts.google.com,accounts.google.com"  # comma-separated
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    social_token_leeway_seconds: float = 60.0

    # admin API (`/v1/api/admin`)
    admin_allowed_cidrs: str = "127.0.0.0/8,::1/128"  # comma-separated
    admin_auth: Literal["local", "cognito"] = "local"
    admin_token_ttl_seconds: int = 900
    admin_group: str = "admins"
    admin_cognito_client_ids: str | None = None  # comma-separated; default cognito_client_id
    admin_cognito_issuer: str | None = None  # default: the user pool's AWS issuer
    admin_cognito_jwks_url: str | None = None  # default: <issuer>/.well-known/jwks.json

    # edge gateway (`/v1/realtime`)
    jwks_url: str | None = None  # default: <public_url or issuer>/.well-known/jwks.json
    jwks_refetch_cooldown_seconds: float = 30.0
    jwks_timeout_seconds: float = 5.0
    jwks_max_bytes: int = 65536
    gateway_token_leeway_seconds: float = 5.0
    gateway_max_connections: int = 20000
    gateway_handshakes_per_second: float = 500.0
    gateway_handshake_burst: int = 1000
    gateway_send_queue_size: int = 64
    gateway_max_inbound_bytes: int = 4096
    gateway_ping_interval_seconds: float = 20.0
    gateway_ping_timeout_seconds: float = 20.0
    gateway_max_connection_age_seconds: float = 3600.0
    gateway_max_sockets_per_token: int = 5  # open sockets per connection token (its jti)
    gateway_max_sockets_per_ip: int = 200  # open sockets per client address
    gateway_bus_backoff_seconds: float = 0.5
    gateway_bus_max_backoff_seconds: float = 10.0
    realtime_bus_prefix: str = "atelier:rt:"  # Redis channel prefix; isolates environments

    def auth_policy(self) -> AuthPolicy:
        return AuthPolicy(
            issuer=self.issuer,
            access_token_ttl=timedelta(seconds=self.access_token_ttl_seconds),
            connection_token_ttl=timedelta(seconds=self.connection_token_ttl_seconds),
            refresh_token_ttl=timedelta(days=self.refresh_token_ttl_days),
            reuse_interval=timedelta(seconds=self.reuse_interval_seconds),
            transfer_code_ttl=timedelta(seconds=self.transfer_code_ttl_seconds),
            guest_inactivity=timedelta(days=self.guest_inactivity_days),
            lockout=LockoutPolicy(
                threshold=self.lockout_threshold,
                account_threshold=self.lockout_account_threshold,
                base_delay=timedelta(seconds=self.lockout_base_seconds),
            ),
        )

    def image_policy(self) -> ImagePolicy:
        return ImagePolicy(
            quota=DailyQuota(guest=self.image_quota_guest_per_day,
                             member=self.image_quota_member_per_day),
            url_ttl_seconds=self.image_url_ttl_seconds,
            visibility_timeout=self.job_visibility_timeout_seconds,
            max_receives=self.job_max_receives,
            retry_base_seconds=self.job_retry_base_seconds,
            retry_cap_seconds=self.job_retry_cap_seconds,
        )

    def rotation_policy(self) -> RotationPolicy:
        return RotationPolicy(
            jwks_max_age=timedelta(seconds=self.jwks_max_age_seconds),
            margin=timedelta(seconds=self.key_margin_seconds),
            # The longest-lived token a key signs: access tokens or connection tokens.
            longest_token_lifetime=timedelta(seconds=max(
                self.access_token_ttl_seconds, self.connection_token_ttl_seconds)),
            leeway=timedelta(seconds=self.token_leeway_seconds),
            rotate_every=timedelta(days=self.key_rotate_every_days),
        )

    @property
    def gateway_jwks_url(self) -> str:
        if self.jwks_url:
            return self.jwks_url
        return f"{(self.public_url or self.issuer).rstrip('/')}/.well-known/jwks.json"

    @property
    def cognito_issuer(self) -> str:
        if self.admin_cognito_issuer:
            return self.admin_cognito_issuer
        pool = self.cognito_user_pool_id or ""
        return f"https://cognito-idp.{self.aws_region}.amazonaws.com/{pool}"

    @property
    def cognito_jwks_url(self) -> str:
        return self.admin_cognito_jwks_url or f"{self.cognito_issuer}/.well-known/jwks.json"

    @property
    def sql_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'atelier.db').resolve()}"

    def references(self) -> dict[str, str]:
        """Fields whose value names a Parameter Store or Secrets Manager entry."""
        return {
            name: value
            for name, value in self.model_dump().items()
            if isinstance(value, str) and value.startswith(REFERENCE_PREFIXES)
        }
