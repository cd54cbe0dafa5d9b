"""Settings for every entrypoint: environment variables, built in the composition root."""

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.auth.policy import AuthPolicy
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
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    openai_api_key: str | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    aws_region: str = Field("us-east-1", validation_alias=_env("AWS_REGION"))
    aws_endpoint_url: str | None = Field(None, validation_alias=_env("AWS_ENDPOINT_URL"))
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
    refresh_token_ttl_days: float = 30.0
    reuse_interval_seconds: float = 10.0
    transfer_code_ttl_seconds: int = 86400
    guest_inactivity_days: float = 90.0
    lockout_threshold: int = 5
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

    def auth_policy(self) -> AuthPolicy:
        return AuthPolicy(
            issuer=self.issuer,
            access_token_ttl=timedelta(seconds=self.access_token_ttl_seconds),
            refresh_token_ttl=timedelta(days=self.refresh_token_ttl_days),
            reuse_interval=timedelta(seconds=self.reuse_interval_seconds),
            transfer_code_ttl=timedelta(seconds=self.transfer_code_ttl_seconds),
            guest_inactivity=timedelta(days=self.guest_inactivity_days),
            lockout=LockoutPolicy(
                threshold=self.lockout_threshold,
                base_delay=timedelta(seconds=self.lockout_base_seconds),
            ),
        )

    def rotation_policy(self) -> RotationPolicy:
        return RotationPolicy(
            jwks_max_age=timedelta(seconds=self.jwks_max_age_seconds),
            margin=timedelta(seconds=self.key_margin_seconds),
            longest_token_lifetime=timedelta(seconds=self.access_token_ttl_seconds),
            leeway=timedelta(seconds=self.token_leeway_seconds),
            rotate_every=timedelta(days=self.key_rotate_every_days),
        )

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
