"""The admin API's composition root: its use cases, wired to the shared infrastructure."""

from datetime import timedelta

from dependency_injector import containers, providers

from application.admin.audit_log import ListAuditLog
from application.admin.broadcast import Broadcast
from application.admin.devices import ListUserDevices, RevokeUserDevice
from application.admin.images import DeleteImageAsAdmin, HideImage, SearchImages
from application.admin.keys import RevokeSigningKey, RotateKeysNow
from application.admin.local_admins import LocalAdminLogin
from application.admin.users import SearchUsers, SetUserStatus, ShowUser
from application.auth.session_events import BusSessionEvents
from application.keys.manage_keys import ListKeys, RevokeKey
from entrypoints.http_edge.rate_limit import Limit, RateLimits
from entrypoints.wiring.background import RevocationFollower
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


def admin_token_ttl(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.admin_token_ttl_seconds)


class AdminContainer(containers.DeclarativeContainer):
    """Handlers name what they use (`revoke_signing_key: Injected[RevokeSigningKey]`);
    each provider here is one of those names."""

    infrastructure = providers.DependenciesContainer()
    settings = infrastructure.settings
    uow_factory, clock, bus = (
        infrastructure.uow_factory, infrastructure.clock, infrastructure.bus)
    admin_tokens = infrastructure.admin_tokens
    metrics, metrics_server = infrastructure.metrics, infrastructure.metrics_server

    rate_limits = providers.Singleton(rate_limits, settings, infrastructure.rate_limiter)
    session_events = providers.Singleton(BusSessionEvents, bus, providers.Object(None))
    # Keys revoked by another process stop verifying admin tokens here at once.
    revocations = providers.Singleton(
        RevocationFollower, bus, providers.Object(None), infrastructure.keyring)
    reload_keys = providers.Callable(lambda ring: ring.reload, infrastructure.keyring)

    login = providers.Singleton(
        LocalAdminLogin, uow_factory, infrastructure.password_hasher, infrastructure.signer,
        infrastructure.policy, clock, providers.Callable(admin_token_ttl, settings))
    search_users = providers.Singleton(SearchUsers, uow_factory)
    show_user = providers.Singleton(ShowUser, uow_factory, clock)
    disable_user = providers.Singleton(
        SetUserStatus, uow_factory, infrastructure.identity, clock, session_events,
        enable=False)
    enable_user = providers.Singleton(
        SetUserStatus, uow_factory, infrastructure.identity, clock, session_events,
        enable=True)
    list_devices = providers.Singleton(ListUserDevices, uow_factory)
    revoke_device = providers.Singleton(RevokeUserDevice, uow_factory, clock, session_events)
    list_keys = providers.Singleton(ListKeys, infrastructure.key_store)
    rotate_keys_now = providers.Singleton(
        RotateKeysNow, infrastructure.rotate_keys, uow_factory, clock, reload_keys)
    revoke_signing_key = providers.Singleton(
        RevokeSigningKey, providers.Singleton(RevokeKey, infrastructure.key_store, clock, bus),
        infrastructure.rotate_keys, uow_factory, clock, reload_keys)
    search_images = providers.Singleton(SearchImages, uow_factory)
    hide_image = providers.Singleton(HideImage, uow_factory, clock)
    delete_image = providers.Singleton(
        DeleteImageAsAdmin, uow_factory, infrastructure.object_store, bus, clock)
    publish_broadcast = providers.Singleton(Broadcast, bus, uow_factory, clock)
    list_audit_log = providers.Singleton(ListAuditLog, uow_factory)
