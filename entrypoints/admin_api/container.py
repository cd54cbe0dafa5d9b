"""The admin API's composition root: the only place its adapters are built."""

from collections.abc import AsyncIterator
from datetime import timedelta

from dependency_injector import containers, providers

from adapters.crypto.argon2_hasher import Argon2PasswordHasher
from adapters.crypto.eddsa import EdDSASigner, EdDSAVerifier, generate_ed25519
from adapters.crypto.keyring_cache import KeyRingCache
from application.admin.audit_log import ListAuditLog
from application.admin.authenticate import LocalAdminTokens
from application.admin.broadcast import Broadcast
from application.admin.devices import ListUserDevices, RevokeUserDevice
from application.admin.images import DeleteImageAsAdmin, HideImage, SearchImages
from application.admin.keys import RevokeSigningKey, RotateKeysNow
from application.admin.local_admins import ADMIN_AUDIENCE, LocalAdminLogin
from application.admin.users import SearchUsers, SetUserStatus, ShowUser
from application.auth.session_events import PublishingAuthCache
from application.keys.manage_keys import ListKeys, RevokeKey, RotateKeys
from application.ports.admin import AdminTokenVerifier
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.clock import utcnow
from entrypoints.admin_api.services import AdminServices
from entrypoints.http_edge.rate_limit import Limit, RateLimits
from entrypoints.wiring import builders, resources
from entrypoints.wiring.settings import Settings


def rate_limits(settings: Settings, limiter: object) -> RateLimits:
    minute = 60.0
    return RateLimits(
        limiter=limiter,  # type: ignore[arg-type]
        default=Limit("admin-ip", settings.rate_limit_default_per_minute, minute),
        trusted_hops=settings.trusted_proxy_hops,
        named={"sessions": (
            Limit("admin-sessions", settings.rate_limit_sessions_per_minute, minute),)},
    )


async def admin_tokens(
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
    verifier = EdDSAVerifier(keyring.public_key, settings.issuer, ADMIN_AUDIENCE, "at+jwt",
                             settings.token_leeway_seconds)
    yield LocalAdminTokens(verifier, uow_factory)


class AdminContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Object(utcnow)
    policy = providers.Singleton(lambda s: s.auth_policy(), settings)

    engine = providers.Resource(resources.open_engine, settings.provided.sql_url)
    aws = providers.Resource(resources.open_aws, settings)
    redis = providers.Resource(resources.open_redis, settings.provided.redis_url)

    uow_factory = providers.Singleton(builders.sql_uow_factory, engine)
    key_store = providers.Resource(builders.build_key_store, settings, aws)
    rotate_keys = providers.Singleton(
        RotateKeys, key_store, providers.Object(generate_ed25519),
        providers.Singleton(lambda s: s.rotation_policy(), settings), clock)
    keyring = providers.Resource(builders.run_keyring, key_store, settings, rotate_keys)
    rate_limiter = providers.Singleton(builders.build_rate_limiter, redis)
    bus = providers.Singleton(builders.build_bus, redis)
    object_store = providers.Resource(builders.build_object_store, settings, aws)
    mailer = providers.Resource(builders.build_mailer, settings, aws)
    identity = providers.Resource(builders.build_identity, settings, aws, engine, mailer, clock)

    signer = providers.Singleton(EdDSASigner, keyring.provided.active)
    hasher = providers.Singleton(
        Argon2PasswordHasher, settings.provided.password_hash_time_cost,
        settings.provided.password_hash_memory_kib)
    tokens = providers.Resource(admin_tokens, settings, keyring, uow_factory)
    auth_cache = providers.Singleton(PublishingAuthCache, bus)
    reload_keys = providers.Callable(lambda ring: ring.reload, keyring)

    services = providers.Singleton(
        AdminServices,
        settings=settings,
        admin_tokens=tokens,
        keyring=keyring,
        rate_limits=providers.Singleton(rate_limits, settings, rate_limiter),
        login=providers.Singleton(
            LocalAdminLogin, uow_factory, hasher, signer, policy, clock,
            providers.Callable(lambda s: timedelta(seconds=s.admin_token_ttl_seconds), settings)),
        search_users=providers.Singleton(SearchUsers, uow_factory),
        show_user=providers.Singleton(ShowUser, uow_factory, clock),
        disable_user=providers.Singleton(
            SetUserStatus, uow_factory, identity, clock, auth_cache, enable=False),
        enable_user=providers.Singleton(
            SetUserStatus, uow_factory, identity, clock, auth_cache, enable=True),
        list_devices=providers.Singleton(ListUserDevices, uow_factory),
        revoke_device=providers.Singleton(RevokeUserDevice, uow_factory, clock, auth_cache),
        list_keys=providers.Singleton(ListKeys, key_store),
        rotate_keys=providers.Singleton(
            RotateKeysNow, rotate_keys, uow_factory, clock, reload_keys),
        revoke_key=providers.Singleton(
            RevokeSigningKey, providers.Singleton(RevokeKey, key_store, clock), rotate_keys,
            uow_factory, clock, reload_keys),
        search_images=providers.Singleton(SearchImages, uow_factory),
        hide_image=providers.Singleton(HideImage, uow_factory, clock),
        delete_image=providers.Singleton(
            DeleteImageAsAdmin, uow_factory, object_store, bus, clock),
        broadcast=providers.Singleton(Broadcast, bus, uow_factory, clock),
        audit_log=providers.Singleton(ListAuditLog, uow_factory),
    )
