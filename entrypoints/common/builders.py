"""Builders that pick the adapter for each port from the settings (embedded default or AWS)."""

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.crypto.keyring_cache import KeyRingCache
from adapters.memory.bus import InMemoryRealtimeBus
from application.keys.manage_keys import RotateKeys
from application.ports.identity import IdentityProvider
from application.ports.limits import RateLimiter
from application.ports.messaging import Mailer, RealtimeBus
from application.ports.tokens import KeyStore
from application.ports.unit_of_work import UnitOfWorkFactory
from entrypoints.common.resources import AwsClients
from entrypoints.common.settings import Settings


def sql_uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    from adapters.sql.unit_of_work import sql_unit_of_work_factory

    return sql_unit_of_work_factory(engine)


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
    store: KeyStore, settings: Settings, rotate: RotateKeys
) -> AsyncIterator[KeyRingCache]:
    """Loads the keys (bootstrapping the first one on a fresh issuer) and keeps them fresh."""
    cache = KeyRingCache(store, settings.key_refresh_seconds)
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


def build_bus(redis: Any) -> RealtimeBus:
    if redis is not None:
        from adapters.redis.bus import RedisRealtimeBus

        return RedisRealtimeBus(redis)
    return InMemoryRealtimeBus()


async def build_mailer(settings: Settings, aws: AwsClients) -> Mailer:
    if settings.ses_sender:
        from adapters.aws.ses_mailer import SesMailer

        return SesMailer(await aws.client("ses"), settings.ses_sender)
    from adapters.local.mailer import MailboxMailer

    return MailboxMailer(settings.data_dir / "mailbox")


async def build_identity(
    settings: Settings, aws: AwsClients, engine: AsyncEngine, mailer: Mailer, clock: Any
) -> IdentityProvider:
    if settings.identity_provider == "cognito":
        from adapters.aws.cognito import CognitoIdentityProvider

        if not settings.cognito_user_pool_id or not settings.cognito_client_id:
            raise ValueError("set ATELIER_COGNITO_USER_POOL_ID and ATELIER_COGNITO_CLIENT_ID")
        return CognitoIdentityProvider(
            await aws.client("cognito-idp"), settings.cognito_user_pool_id,
            settings.cognito_client_id, settings.cognito_client_secret)
    from argon2 import PasswordHasher, Type

    from adapters.local.identity import LocalIdentityProvider
    from adapters.sql.credentials import SqlCredentialStore
    from adapters.sql.unit_of_work import make_session_factory

    hasher = PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_cost=settings.password_hash_memory_kib, type=Type.ID)
    store = SqlCredentialStore(make_session_factory(engine))
    return LocalIdentityProvider(store, mailer, clock, hasher=hasher)
