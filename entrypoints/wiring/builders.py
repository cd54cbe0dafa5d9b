"""Builders that pick the adapter for each port from the settings (embedded default or AWS)."""

import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.crypto.argon2_hasher import Argon2PasswordHasher
from adapters.crypto.keyring_cache import KeyRingCache
from adapters.memory.bus import InMemoryRealtimeBus
from application.admin.authenticate import LocalAdminTokens
from application.admin.local_admins import ADMIN_AUDIENCE
from application.auth.refresh_ledger import UnitOfWorkRefreshLedger
from application.identity.triggers import RecordConfirmedSignUp, ScreenSignUp
from application.keys.manage_keys import RotateKeys
from application.ports.admin import AdminTokenVerifier
from application.ports.clock import Clock
from application.ports.deletion_codes import DeletionCodeStore
from application.ports.identity import IdentityProvider
from application.ports.images import ImageGenerator, JobQueue, ObjectStore, SignedObjectReader
from application.ports.limits import RateLimiter
from application.ports.load_balancer import TargetHealth
from application.ports.messaging import Mailer, RealtimeBus
from application.ports.retention import RetentionStore
from application.ports.sessions import RefreshLedger
from application.ports.tokens import KeyStore
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.sessions.tokens import RefreshTokenSeal
from domain.users.signup import SignUpPolicy, parse_domains
from entrypoints.wiring.di import resolve
from entrypoints.wiring.metrics import ProcessMetrics
from entrypoints.wiring.resources import AwsClients
from entrypoints.wiring.settings import Settings

if TYPE_CHECKING:
    from adapters.jwks.source import HttpJwksSource
    from application.ports.admin_directory import AdminDirectory
    from application.ports.apple_tokens import AppleTokens
    from application.ports.census import SocketCensus
    from application.ports.identities import IdTokenVerifier


def sql_uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    """The one Unit of Work factory of a process: every use case and the sign-up trigger
    open their transactions through it."""
    from adapters.sql.unit_of_work import sql_unit_of_work_factory

    return sql_unit_of_work_factory(engine)


async def build_refresh_ledger(
    settings: Settings, uow_factory: UnitOfWorkFactory
) -> AsyncIterator[RefreshLedger]:
    """On PostgreSQL, refreshes go through the driver (one statement in the common case);
    elsewhere through the Unit of Work."""
    from adapters.sql.engine import create_driver_pool, is_sqlite

    if is_sqlite(settings.sql_url):
        yield UnitOfWorkRefreshLedger(uow_factory)
        return
    from adapters.sql.refresh_ledger import AsyncpgRefreshLedger

    pool = await create_driver_pool(settings.sql_url)
    try:
        yield AsyncpgRefreshLedger(pool)
    finally:
        await pool.close()


def build_refresh_token_seal(settings: Settings) -> RefreshTokenSeal:
    """The MAC key sealing refresh tokens: the configured secret (the same on every node);
    unset, a random one in the data folder, or per process with the in-memory keystore."""
    if settings.refresh_token_secret:
        return RefreshTokenSeal(settings.refresh_token_secret.encode())
    if settings.keystore == "secretsmanager":
        raise ValueError(
            "refresh_token_secret must be set (a secretsmanager: reference) when the signing "
            "keys are in Secrets Manager: every node must seal refresh tokens with one key")
    if settings.keystore == "memory":
        return RefreshTokenSeal(secrets.token_bytes(32))
    from adapters.local.refresh_token_key import load_or_create_key

    return RefreshTokenSeal(load_or_create_key(settings.data_dir / "refresh-token-key"))


async def build_key_store(settings: Settings, aws: AwsClients) -> KeyStore:
    if settings.keystore == "secretsmanager":
        from adapters.aws.secrets_key_store import SecretsManagerKeyStore

        return SecretsManagerKeyStore(
            await aws.client("secretsmanager"), settings.keystore_secret_id)
    if settings.keystore == "memory":
        from adapters.memory.key_store import InMemoryKeyStore

        return InMemoryKeyStore()
    from adapters.local.file_key_store import FileKeyStore

    return FileKeyStore(settings.data_dir / "signing-keys.json")


async def run_keyring(
    store: KeyStore, settings: Settings, rotate: RotateKeys, bus: RealtimeBus
) -> AsyncIterator[KeyRingCache]:
    """Loads the keys (bootstrapping the first one on a fresh issuer) and keeps them fresh;
    a revocation found on reload is announced on the bus for the nodes that missed it."""
    from application.auth.session_events import KeyRevocationNotice

    cache = KeyRingCache(store, settings.key_refresh_seconds, KeyRevocationNotice(bus))
    await cache.reload()
    if cache.active() is None:
        await rotate()
    async with cache.running():
        yield cache


def build_rate_limiter(redis: Any) -> RateLimiter:
    if redis is not None:
        from adapters.redis.rate_limiter import RedisRateLimiter

        return RedisRateLimiter(redis)
    from adapters.memory.rate_limiter import InMemoryRateLimiter

    return InMemoryRateLimiter()


def build_bus(redis: Any, settings: Settings) -> RealtimeBus:
    """Redis when configured (every process hears every other); otherwise one in-memory
    bus for the process (`atelier dev` shares it between every mounted entrypoint)."""
    if redis is not None:
        from adapters.redis.bus import RedisRealtimeBus

        return RedisRealtimeBus(
            redis, prefix=settings.realtime_bus_prefix,
            backoff=settings.gateway_bus_backoff_seconds,
            max_backoff=settings.gateway_bus_max_backoff_seconds)
    return InMemoryRealtimeBus()


def build_socket_census(
    redis: Any, settings: Settings, embedded: bool = False
) -> "SocketCensus | None":
    """Redis when configured (every gateway node reports there, the console reads the sum);
    in one process (`atelier dev`, `embedded`) the gateway beside the console reports to
    memory; otherwise None: a lone console cannot see the gateways, so it says "unknown"."""
    ttl = 3 * settings.gateway_census_interval_seconds
    if redis is not None:
        from adapters.redis.census import RedisSocketCensus

        return RedisSocketCensus(redis, ttl, key=f"{settings.realtime_bus_prefix}gateway:nodes")
    if embedded:
        from adapters.memory.census import InMemorySocketCensus

        return InMemorySocketCensus(ttl)
    return None


async def build_admin_directory(settings: Settings, aws: AwsClients) -> "AdminDirectory | None":
    """Cognito admins are re-checked in the user pool during their console sessions; local
    admins are checked in the database, so there is no directory to ask."""
    if settings.admin_auth != "cognito" or not settings.cognito_user_pool_id:
        return None
    from adapters.aws.cognito_admins import CognitoAdminDirectory

    return CognitoAdminDirectory(
        await aws.client("cognito-idp"), settings.cognito_user_pool_id, settings.admin_group)


async def build_mailer(settings: Settings, aws: AwsClients) -> Mailer:
    if settings.ses_sender:
        from adapters.aws.ses_mailer import SesMailer

        return SesMailer(await aws.client("ses"), settings.ses_sender)
    from adapters.local.mailer import MailboxMailer

    return MailboxMailer(settings.data_dir / "mailbox")


async def build_identity(
    settings: Settings, aws: AwsClients, engine: AsyncEngine, uow_factory: UnitOfWorkFactory,
    mailer: Mailer, clock: Clock, hasher: Argon2PasswordHasher,
) -> IdentityProvider:
    if settings.identity_provider == "cognito":
        from adapters.aws.cognito import CognitoIdentityProvider

        if not settings.cognito_user_pool_id or not settings.cognito_client_id:
            raise ValueError("set ATELIER_COGNITO_USER_POOL_ID and ATELIER_COGNITO_CLIENT_ID")
        from adapters.local.lifecycle_codes import LifecycleCodes
        from adapters.sql.credentials import SqlCredentialStore
        from adapters.sql.unit_of_work import make_session_factory

        # E-mail-change codes are kept in the database (Cognito checks those only with
        # the user's own token) and mailed like every other message.
        codes = LifecycleCodes(SqlCredentialStore(make_session_factory(engine)), clock)
        return CognitoIdentityProvider(
            await aws.client("cognito-idp"), settings.cognito_user_pool_id,
            settings.cognito_client_id, settings.cognito_client_secret,
            email_codes=codes, mailer=mailer)
    from adapters.local.identity import LocalIdentityProvider
    from adapters.sql.credentials import SqlCredentialStore
    from adapters.sql.unit_of_work import make_session_factory

    store = SqlCredentialStore(make_session_factory(engine))
    screen = ScreenSignUp(SignUpPolicy(parse_domains(settings.blocked_email_domains)))
    record = RecordConfirmedSignUp(uow_factory, clock)

    async def on_confirmed(email: str, subject: str) -> None:
        await record(email, subject)

    # The Cognito triggers' logic, called in-process (entrypoints/lambdas in production).
    return LocalIdentityProvider(store, mailer, clock, hasher=hasher.argon2,
                                 on_sign_up=screen, on_confirmed=on_confirmed)


async def run_apple_tokens(settings: Settings) -> AsyncIterator["AppleTokens"]:
    """Sign in with Apple's token revocation when the team key is configured (the client
    id is the first of `apple_client_ids`, the app's bundle id); otherwise off."""
    from adapters.apple.token_revocation import AppleRevocationOff, AppleTokenRevocation

    client_ids = [c.strip() for c in (settings.apple_client_ids or "").split(",") if c.strip()]
    if not (client_ids and settings.apple_team_id and settings.apple_key_id
            and settings.apple_private_key):
        yield AppleRevocationOff()
        return
    async with AppleTokenRevocation.create(
        client_id=client_ids[0], team_id=settings.apple_team_id,
        key_id=settings.apple_key_id, private_key=settings.apple_private_key,
        audience=settings.apple_issuer, token_url=settings.apple_token_url,
        revoke_url=settings.apple_revoke_url,
    ) as apple:
        yield apple


def build_deletion_codes(engine: AsyncEngine) -> DeletionCodeStore:
    from adapters.sql.deletion_codes import SqlDeletionCodeStore

    return SqlDeletionCodeStore(engine)


def build_retention_store(engine: AsyncEngine) -> RetentionStore:
    from adapters.sql.retention import SqlAlchemyRetentionStore

    return SqlAlchemyRetentionStore(engine)


async def build_job_queue(settings: Settings, aws: AwsClients) -> AsyncIterator[JobQueue]:
    """SQS when a queue URL is set; otherwise the durable local queue under the data dir."""
    if settings.sqs_queue_url:
        from adapters.aws.sqs_job_queue import SqsJobQueue

        yield await SqsJobQueue.connect(
            await aws.client("sqs"), settings.sqs_queue_url, settings.sqs_dlq_url,
            settings.job_visibility_timeout_seconds)
        return
    from adapters.local.job_queue import SqliteJobQueue

    queue = SqliteJobQueue(
        settings.data_dir / "queue.sqlite3", settings.job_visibility_timeout_seconds,
        settings.job_max_receives)
    try:
        yield queue
    finally:
        queue.close()


async def build_object_store(settings: Settings, aws: AwsClients) -> ObjectStore:
    """S3 when a bucket is set; otherwise files under the data dir with signed URLs."""
    if settings.s3_bucket:
        from adapters.aws.s3_object_store import S3ObjectStore

        return S3ObjectStore(await aws.client("s3"), settings.s3_bucket)
    from adapters.local.object_store import FilesystemObjectStore, load_or_create_secret

    secret = load_or_create_secret(settings.data_dir / "url-signing.key")
    return FilesystemObjectStore(settings.data_dir / "objects", secret, settings.public_url or "")


def signed_reader(store: ObjectStore) -> SignedObjectReader | None:
    """The store that serves its own signed links (the filesystem one), if that is it."""
    from adapters.local.object_store import FilesystemObjectStore

    return store if isinstance(store, FilesystemObjectStore) else None


async def build_generator(settings: Settings) -> AsyncIterator[ImageGenerator]:
    """OpenAI when asked for (or when a key is set); otherwise the local Pillow generator."""
    kind = settings.image_generator or ("openai" if settings.openai_api_key else "local")
    if kind == "openai":
        from adapters.openai.image_generator import OpenAIImageGenerator, make_client

        if not settings.openai_api_key:
            raise ValueError("set OPENAI_API_KEY to use the OpenAI image generator")
        client = make_client(settings.openai_base_url, settings.openai_timeout_seconds)
        try:
            yield OpenAIImageGenerator(client, settings.openai_api_key)
        finally:
            await client.aclose()
        return
    from adapters.local.image_generator import LocalImageGenerator

    yield LocalImageGenerator(settings.local_generator_delay_seconds)


async def build_admin_tokens(
    settings: Settings, keyring: KeyRingCache, uow_factory: UnitOfWorkFactory
) -> AsyncIterator[AdminTokenVerifier]:
    """Cognito access tokens of the `admins` group in production; local admin tokens
    signed by our own keys in the embedded default."""
    if settings.admin_auth == "cognito":
        import httpx

        from adapters.aws.cognito_tokens import CognitoAdminTokens, CognitoJwks

        client_ids = settings.admin_cognito_client_ids or settings.cognito_client_id
        if not settings.cognito_user_pool_id and not settings.admin_cognito_issuer:
            raise ValueError("set ATELIER_COGNITO_USER_POOL_ID (or ATELIER_ADMIN_COGNITO_ISSUER)")
        if not client_ids:
            raise ValueError("set ATELIER_ADMIN_COGNITO_CLIENT_IDS or ATELIER_COGNITO_CLIENT_ID")
        async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
            yield CognitoAdminTokens(
                CognitoJwks(client, settings.cognito_jwks_url), settings.cognito_issuer,
                frozenset(c.strip() for c in client_ids.split(",") if c.strip()),
                group=settings.admin_group, leeway=settings.token_leeway_seconds)
        return
    from adapters.crypto.eddsa import EdDSAVerifier

    verifier = EdDSAVerifier(keyring.public_key, settings.issuer, ADMIN_AUDIENCE, "at+jwt",
                             settings.token_leeway_seconds,
                             max_lifetime=settings.admin_token_ttl_seconds)
    yield LocalAdminTokens(verifier, uow_factory)


async def run_realtime_jwks(
    settings: Settings, origin: KeyRingCache | None = None,
    metrics: ProcessMetrics | None = None,
) -> AsyncIterator["HttpJwksSource"]:
    """The gateway's view of the origin's public keys, fetched over HTTP and kept fresh.
    Given the `origin` in this process (the embedded default), the same document is read
    from it in-process: the origin does not listen yet while the gateway starts."""
    import httpx

    from adapters.jwks.published_keys import PublishedKeysTransport
    from adapters.jwks.source import HttpJwksSource

    # trust_env=False: the JWKS URL is fixed in config; no proxy or .netrc may redirect it.
    async with httpx.AsyncClient(
        timeout=settings.jwks_timeout_seconds, follow_redirects=False, trust_env=False,
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
        transport=PublishedKeysTransport(origin.published, settings.jwks_max_age_seconds)
        if origin is not None and not settings.jwks_url else None,
    ) as client:
        source = HttpJwksSource(
            client, settings.gateway_jwks_url, settings.issuer,
            refetch_cooldown=settings.jwks_refetch_cooldown_seconds,
            default_max_age=settings.jwks_max_age_seconds, max_bytes=settings.jwks_max_bytes,
            on_fetch=metrics.jwks_fetched if metrics is not None else None)
        async with source.running():
            yield source


async def run_provider_tokens(settings: Settings) -> AsyncIterator["IdTokenVerifier"]:
    """Apple's and Google's ID-token checks: each enabled provider's JWKS fetched from its
    fixed URL and kept fresh; a provider without client ids stays off (no fetch)."""
    import contextlib

    import httpx

    from adapters.jwks.provider_tokens import (
        ProviderConfig,
        ProviderIdTokenVerifier,
        parse_rsa_jwks,
    )
    from adapters.jwks.source import HttpJwksSource
    from domain.users.identities import Provider

    def listed(value: str | None) -> frozenset[str]:
        return frozenset(item.strip() for item in (value or "").split(",") if item.strip())

    wanted = {
        Provider.APPLE: (listed(settings.apple_client_ids), frozenset({settings.apple_issuer}),
                         settings.apple_jwks_url, True),
        Provider.GOOGLE: (listed(settings.google_client_ids), listed(settings.google_issuers),
                          settings.google_jwks_url, False),
    }
    async with (
        httpx.AsyncClient(timeout=settings.jwks_timeout_seconds, follow_redirects=False,
                          trust_env=False) as client,
        contextlib.AsyncExitStack() as running,
    ):
        providers: dict[Provider, ProviderConfig] = {}
        for provider, (client_ids, issuers, url, apple) in wanted.items():
            if not client_ids:
                continue
            source = HttpJwksSource(
                client, url, provider.value,
                refetch_cooldown=settings.jwks_refetch_cooldown_seconds,
                default_max_age=settings.jwks_max_age_seconds,
                max_bytes=settings.jwks_max_bytes, parse=parse_rsa_jwks)
            await running.enter_async_context(source.running())
            providers[provider] = ProviderConfig(
                provider, issuers, client_ids, source, nonce_hashed=apple, nonce_required=apple)
        yield ProviderIdTokenVerifier(providers, settings.social_token_leeway_seconds)


ECS_METADATA_VARIABLE = "ECS_CONTAINER_METADATA_URI_V4"
_gateway_log = logging.getLogger("atelier.gateway")


async def build_target_health(
    settings: Settings, aws: Callable[[], Any]
) -> TargetHealth | None:
    """The balancer's view of this task's target; None (nothing watched) unless the target
    group is set and the task metadata endpoint is there to say which target is ours.
    `aws` starts the AWS clients only then (a gateway elsewhere opens none)."""
    if not settings.gateway_target_group_arn:
        return None
    metadata_uri = os.environ.get(ECS_METADATA_VARIABLE)
    if not metadata_uri:
        _gateway_log.warning("gateway_target_group_arn is set but %s is not: not watching"
                            " the target; only SIGTERM drains", ECS_METADATA_VARIABLE)
        return None
    from adapters.aws.elb_target_health import ElbTargetHealth, ecs_task_ipv4

    clients: AwsClients = await resolve(aws)
    try:
        elbv2 = await clients.client("elbv2")
    except Exception:  # the watch is an aid: a node that cannot have it still serves
        _gateway_log.exception("no elbv2 client: not watching the target; only SIGTERM drains")
        return None
    return ElbTargetHealth(elbv2, settings.gateway_target_group_arn,
                           settings.gateway_target_port, ecs_task_ipv4(metadata_uri))
