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
    model_config = SettingsConfigDict(
        env_prefix="ATELIER_", extra="ignore", populate_by_name=True,
        use_attribute_docstrings=True)

    # where things are
    data_dir: Path = Path(".atelier")
    """Folder of the embedded default's state: SQLite database, signing keys (0600), objects,
    the local queue, the mailbox of sent e-mail. Made private (0700/0600) on start."""
    database_url: str | None = Field(default=None, validation_alias=_env("DATABASE_URL"))
    """SQLAlchemy URL of the database (`postgresql+asyncpg://...` in production). Unset: a
    SQLite file in the data folder."""
    redis_url: str | None = Field(default=None, validation_alias=_env("REDIS_URL"))
    """Redis for the realtime bus and the rate limits shared by every node. Unset: both in
    memory, one process only."""
    openai_api_key: str | None = Field(default=None, validation_alias=_env("OPENAI_API_KEY"))
    """OpenAI API key; when set (and `image_generator` is unset) images come from OpenAI."""
    aws_region: str = Field(default="us-east-1", validation_alias=_env("AWS_REGION"))
    """AWS region of every AWS client."""
    aws_endpoint_url: str | None = Field(default=None, validation_alias=_env("AWS_ENDPOINT_URL"))
    """Endpoint for every AWS client (a local emulator in tests). Unset: the real AWS endpoints."""
    issuer: str = "http://127.0.0.1:8000"
    """`iss` of every token this service signs; also the base of the JWKS URL when `public_url`
    is unset."""
    public_url: str | None = None
    """The address phones reach the service at (for the JWKS and signed download links)."""
    realtime_url: str | None = None
    """The WebSocket URL handed out with connection tokens. Unset: `/v1/realtime` on the host the
    request came to."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """How log lines read: `json` (one object a line, for a log pipeline), `text` (for a person)
    or `auto`: text when standard error is a terminal, JSON otherwise. `--log-format` wins."""

    # identity
    identity_provider: Literal["local", "cognito"] = "local"
    """Where members' passwords live: `local` (this database, argon2id) or `cognito` (the user
    pool)."""
    cognito_user_pool_id: str | None = None
    """The Cognito user pool (identity provider `cognito`, and the admins' pool)."""
    cognito_client_id: str | None = None
    """The app client the mobile API signs members in with."""
    cognito_client_secret: str | None = None
    """That app client's secret, if it has one."""
    password_hash_memory_kib: int = 65536
    """argon2id memory cost (KiB) of the local identity provider and local admins."""
    password_hash_time_cost: int = 3
    """argon2id time cost (passes)."""

    # signing keys
    keystore: Literal["file", "memory", "secretsmanager"] = "file"
    """Where the Ed25519 signing keys (private halves included) are kept: `file` (data folder,
    0600), `secretsmanager`, or `memory` (tests)."""
    keystore_secret_id: str = "atelier/signing-keys"
    """The Secrets Manager secret holding the signing keys (keystore `secretsmanager`)."""
    key_refresh_seconds: float = 10.0
    """How often each node re-reads the signing keys (a node that missed a revocation notice
    converges within this)."""
    jwks_max_age_seconds: int = 300
    """`Cache-Control: max-age` of the JWKS; rotation waits for it before a new key signs."""
    key_margin_seconds: int = 300
    """Extra time added to every rotation wait, for clocks and caches."""
    key_rotate_every_days: float = 7.0
    """How often `atelier keys rotate` moves to a new signing key."""
    token_leeway_seconds: int = 60
    """Clock skew allowed when checking `exp`/`iat` of access tokens."""
    refresh_token_secret: str | None = None
    """Key of the MAC that seals refresh tokens (at least 32 characters of random text, the
    same on every node; in production a `secretsmanager:` reference). Changing it ends every
    session at its next refresh. Unset: a random key kept in the data folder
    (`refresh-token-key`, 0600), or one per process with the `memory` keystore; refused with
    the `secretsmanager` keystore."""

    # lifetimes
    access_token_ttl_seconds: int = 3600
    """Lifetime of access and ID tokens; a token claiming a longer lifetime is refused."""
    connection_token_ttl_seconds: int = 60
    """Lifetime of the realtime connection tokens; a longer one is refused."""
    refresh_token_ttl_days: float = 30.0
    """Lifetime of a refresh-token family from its login (not sliding)."""
    reuse_interval_seconds: float = 10.0
    """Window in which racing refreshes with one token converge; a replay after it ends the
    family."""
    transfer_code_ttl_seconds: int = 86400
    """Lifetime of a transfer code."""
    guest_inactivity_days: float = 90.0
    """A guest idle this long is deleted by `atelier guests purge` (unless a transfer code is
    open)."""
    lockout_threshold: int = 5
    """Failed password checks in a row, per account and client address, before the growing lock-
    out delays start."""
    lockout_account_threshold: int = 50
    """Failed password checks per account from every address together before the account locks
    everywhere (signed-in sessions keep working)."""
    lockout_base_seconds: float = 30.0
    """First lock-out delay; it doubles with each further failure."""
    auth_cache_seconds: float = 5.0
    """How long a node trusts a session it has checked before looking at the database again
    (revocations reach it at once over the bus)."""

    # per-IP rate limits (per minute unless named otherwise)
    rate_limit_default_per_minute: int = 300
    """Requests per minute per client address on every route without a stricter limit."""
    rate_limit_guests_per_minute: int = 30
    """Guest creations per minute per client address."""
    rate_limit_sessions_per_minute: int = 10
    """Password log-ins (and other account routes) per minute per client address."""
    rate_limit_redeem_per_minute: int = 10
    """Transfer-code redeem attempts per minute per client address."""
    rate_limit_redeem_global_per_hour: int = 1000
    """Transfer-code redeem attempts per hour across every address."""
    trusted_proxy_hops: int = 0
    """How many proxies in front of the service append to `X-Forwarded-For` (CloudFront and the
    ALB: 2). 0: the socket's peer is the client."""

    # mail
    ses_sender: str | None = None
    """The verified SES address mail is sent from. Unset: mail is written to the data folder's
    mailbox and the log."""

    # images: storage, queue, generator (unset: files, a local durable queue, Pillow)
    s3_bucket: str | None = None
    """The S3 bucket for images and exports. Unset: files in the data folder with signed links."""
    sqs_queue_url: str | None = None
    """The SQS queue of image jobs. Unset: a durable local queue in the data folder."""
    sqs_dlq_url: str | None = None
    """The dead-letter queue. Unset: the queue's redrive policy target."""
    image_generator: Literal["local", "openai"] | None = None
    """`local` (Pillow, offline, deterministic) or `openai`. Unset: `openai` when an API key is
    set, else `local`."""
    openai_base_url: str = "https://api.openai.com"
    """Base URL of the OpenAI images API."""
    openai_timeout_seconds: float = 120.0
    """Timeout of one OpenAI generation request."""
    local_generator_delay_seconds: float = 0.0
    """Artificial delay of the local generator (to watch the pipeline work)."""
    image_quota_guest_per_day: int = 10
    """Images a guest may request per day."""
    image_quota_member_per_day: int = 50
    """Images a member may request per day."""
    image_url_ttl_seconds: int = 300
    """Lifetime of an image's (or export's) download link."""
    job_visibility_timeout_seconds: float = 60.0
    """How long a received job stays invisible to other workers (extended while a generation
    runs)."""
    job_max_receives: int = 5
    """Receives before a job goes to the dead-letter queue (SQS: the redrive policy's
    maxReceiveCount)."""
    job_retry_base_seconds: float = 2.0
    """First back-off after a retryable generation failure; it doubles."""
    job_retry_cap_seconds: float = 300.0
    """Longest back-off between retries."""
    worker_concurrency: int = 4
    """Generations one worker runs at once."""
    worker_wait_seconds: float = 20.0
    """Long-poll wait of one receive."""
    outbox_poll_seconds: float = 1.0
    """How often the outbox relay looks for undelivered messages when nothing woke it."""

    # sign-up screening (Cognito pre sign-up trigger, and the local provider's hook)
    blocked_email_domains: str = ""
    """Comma-separated e-mail domains refused at sign-up (e.g. `mailinator.com,yopmail.com`)."""

    # Sign in with Apple and Google (a provider without client ids is off)
    apple_client_ids: str | None = None
    """Comma-separated client ids (bundle id, services ids) Sign in with Apple tokens must be
    for. Unset: Apple sign-in is off."""
    apple_issuer: str = "https://appleid.apple.com"
    """The `iss` of Apple's ID tokens."""
    apple_jwks_url: str = "https://appleid.apple.com/auth/keys"
    """Apple's public keys."""
    apple_team_id: str | None = None
    """The Apple developer team id: with `apple_key_id` and `apple_private_key`, a deleted
    account's Apple tokens are revoked (its app sends an authorization code with the
    deletion). Unset: nothing is revoked at Apple."""
    apple_key_id: str | None = None
    """The id of the Sign in with Apple key that signs the client secret."""
    apple_private_key: str | None = None
    """That key's PEM (the `.p8` file; in production a `secretsmanager:` reference)."""
    apple_token_url: str = "https://appleid.apple.com/auth/token"
    """Where an authorization code is exchanged for Apple's tokens."""
    apple_revoke_url: str = "https://appleid.apple.com/auth/revoke"
    """Where Apple's tokens are revoked."""
    google_client_ids: str | None = None
    """Comma-separated OAuth client ids (iOS, Android, web) Google ID tokens must be for. Unset:
    Google sign-in is off."""
    google_issuers: str = "https://accounts.google.com,accounts.google.com"
    """Comma-separated accepted `iss` values of Google's ID tokens."""
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    """Google's public keys."""
    social_token_leeway_seconds: float = 60.0
    """Clock skew allowed on Apple and Google ID tokens."""

    # admin API (`/v1/api/admin`)
    admin_allowed_cidrs: str = "127.0.0.0/8,::1/128"
    """Comma-separated networks allowed to reach the admin API (health checks excepted)."""
    admin_auth: Literal["local", "cognito"] = "local"
    """How admins sign in: `local` (admins made with `atelier admin create`) or `cognito` (the
    user pool's `admins` group)."""
    admin_token_ttl_seconds: int = 900
    """Lifetime of a local admin's token."""
    admin_group: str = "admins"
    """The Cognito group whose members are admins."""
    admin_cognito_client_ids: str | None = None
    """Comma-separated app clients admin tokens may come from. Unset: `cognito_client_id`."""
    admin_cognito_issuer: str | None = None
    """Expected `iss` of admin tokens. Unset: the user pool's AWS issuer."""
    admin_cognito_jwks_url: str | None = None
    """Where admin tokens' keys are fetched. Unset: `<issuer>/.well-known/jwks.json`."""

    # web console (`/`, behind `admin_allowed_cidrs` too)
    console_session_idle_minutes: float = 30.0
    """A console sign-in ends after this long without a request."""
    console_session_absolute_hours: float = 12.0
    """A console sign-in ends this long after it began, however busy."""
    console_public_url: str | None = None
    """The console's address as browsers reach it (sign-in comes back to
    `<console_public_url>/auth/callback`). Unset: `public_url`, else `issuer`."""
    console_cognito_domain: str | None = None
    """The user pool's hosted UI address (e.g. `https://auth.example.com`): where the console
    sends admins to sign in when `admin_auth` is `cognito`."""
    console_cognito_client_id: str | None = None
    """The app client the console signs in with (authorization code with PKCE, no secret); it
    must also be one of `admin_cognito_client_ids`."""

    # edge gateway (`/v1/realtime`)
    jwks_url: str | None = None
    """The JWKS the gateway verifies connection tokens with. Unset: `<public_url or
    issuer>/.well-known/jwks.json`."""
    jwks_refetch_cooldown_seconds: float = 30.0
    """Least time between two JWKS fetches caused by unknown kids (a flood of random kids cannot
    stampede the origin)."""
    jwks_timeout_seconds: float = 5.0
    """Timeout of one JWKS fetch."""
    jwks_max_bytes: int = 65536
    """Largest JWKS document accepted."""
    gateway_token_leeway_seconds: float = 5.0
    """Clock skew allowed on connection tokens."""
    gateway_max_connections: int = 20000
    """Sockets one gateway node holds; past it handshakes get 503."""
    gateway_handshakes_per_second: float = 500.0
    """Handshake rate one node admits (token bucket); past it 503 with Retry-After."""
    gateway_handshake_burst: int = 1000
    """Burst size of that bucket."""
    gateway_send_queue_size: int = 64
    """Messages queued for one socket before it is cut off as a slow consumer."""
    gateway_max_inbound_bytes: int = 4096
    """Largest frame a client may send (also the server's WebSocket size limit)."""
    gateway_ping_interval_seconds: float = 20.0
    """Keep-alive ping interval."""
    gateway_ping_timeout_seconds: float = 20.0
    """A socket that does not answer a ping within this is closed."""
    gateway_max_connection_age_seconds: float = 3600.0
    """A socket is closed (1000) after this age; the client reconnects with a fresh token."""
    gateway_max_sockets_per_token: int = 5
    """Sockets one connection token (its `jti`) may open."""
    gateway_max_sockets_per_ip: int = 200
    """Sockets one client address may hold on one node."""
    gateway_bus_backoff_seconds: float = 0.5
    """First wait before resubscribing to a lost bus; it doubles."""
    gateway_bus_max_backoff_seconds: float = 10.0
    """Longest wait between resubscriptions."""
    gateway_drain_seconds: float = 30.0
    """On SIGTERM (on ECS: when its target starts draining, see `gateway_target_group_arn`),
    the time over which a gateway node closes its sockets (1012), evenly: the
    clients come back to the other nodes spread over it instead of all at once (15,000
    sockets at 500 handshakes/s take 28 s to re-admit anyway). The orchestrator's stop
    timeout must exceed it by 40 s. 0: all at once. `atelier dev` drains at once unless set."""
    gateway_target_group_arn: str | None = None
    """On ECS behind an ALB: the ARN of the gateway's target group. Set, each node asks the
    balancer (DescribeTargetHealth) about its own target (the task's private IP, from the
    ECS task metadata endpoint) and starts its paced drain as soon as the target is
    `draining`, while the ALB still carries the sockets: ECS sends SIGTERM only after the
    deregistration delay, when the ALB has cut them. Unset: only SIGTERM drains."""
    gateway_target_port: int = Field(default=8000, ge=1, le=65535)
    """Port of this node's target in that target group (the container port)."""
    gateway_target_health_poll_seconds: float = Field(default=5.0, gt=0)
    """How often a node asks about its target; the deregistration delay must cover this plus
    `gateway_drain_seconds` plus a margin. Errors space the questions out, up to 30 s."""
    gateway_census_interval_seconds: float = 5.0
    """How often each gateway node reports its open-socket count (Redis) for the console's
    overview; a node silent for three intervals no longer counts."""
    realtime_bus_prefix: str = "atelier:rt:"
    """Redis channel prefix of the realtime bus; isolates environments sharing a Redis."""

    # traces (OpenTelemetry; the standard OTEL_* variables say where spans go)
    tracing_enabled: bool = True
    """Trace requests, jobs and deliveries, and put the `trace_id` in log lines. Spans are
    exported only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; off, every span is a no-op."""

    # metrics (Prometheus text format, on a port of their own)
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    """Port of the Prometheus metrics server (`GET /metrics`), apart from the public port;
    `atelier dev` serves every app's metrics there together. 0 turns metrics off."""
    metrics_host: str = "127.0.0.1"
    """Address the metrics server listens on (`0.0.0.0` for a scraper outside the host or
    task)."""

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
