"""The web console's composition root: the admin use cases (the same as the admin API's)
and the console's own sign-in sessions, wired to the shared infrastructure."""

import inspect
from datetime import timedelta
from typing import Any

from dependency_injector import containers, providers

from application.admin.audit_log import ListAuditLog
from application.admin.broadcast import Broadcast
from application.admin.console_sessions import (
    EndConsoleSession,
    ResumeConsoleSession,
    StartConsoleSession,
)
from application.admin.devices import RevokeUserDevice
from application.admin.images import DeleteImageAsAdmin, HideImage, SearchImages
from application.admin.keys import RevokeSigningKey, RotateKeysNow
from application.admin.local_admins import LocalAdminLogin
from application.admin.overview import ImageLinks, QueueDepth, ShowOverview
from application.admin.users import SearchUsers, SetUserStatus, ShowUser
from application.auth.session_events import BusSessionEvents
from application.keys.manage_keys import ListKeys, RevokeKey
from domain.admins.console_session import ConsoleSessionLimits
from entrypoints.admin_api.container import admin_token_ttl
from entrypoints.http_edge.rate_limit import Limit, RateLimits
from entrypoints.wiring.background import RevocationFollower
from entrypoints.wiring.settings import Settings


def session_limits(settings: Settings) -> ConsoleSessionLimits:
    return ConsoleSessionLimits(
        idle=timedelta(minutes=settings.console_session_idle_minutes),
        absolute=timedelta(hours=settings.console_session_absolute_hours))


def rate_limits(settings: Settings, limiter: object) -> RateLimits:
    minute = 60.0
    return RateLimits(
        limiter=limiter,  # type: ignore[arg-type]
        default=Limit("console-ip", settings.rate_limit_default_per_minute, minute),
        trusted_hops=settings.trusted_proxy_hops,
        named={"sign-in": (
            Limit("console-sign-in", settings.rate_limit_sessions_per_minute, minute),)},
    )


def queue_depth(job_queue: providers.Provider[Any]) -> QueueDepth:
    """Jobs in the queue and dead letters (SQS: its approximate counts); the queue is
    opened when the overview first asks, not at start. None where a queue cannot tell."""

    async def depth() -> tuple[int, int] | None:
        queue = job_queue()
        if inspect.isawaitable(queue):
            queue = await queue
        counted = getattr(queue, "depth", None)
        if counted is None:
            return None
        found = counted()
        if inspect.isawaitable(found):
            found = await found
        waiting, dead = found
        return int(waiting), int(dead)

    return depth


class ConsoleContainer(containers.DeclarativeContainer):
    """Handlers name what they use (`hide_image: Injected[HideImage]`); each provider here
    is one of those names."""

    infrastructure = providers.DependenciesContainer()
    settings = infrastructure.settings
    uow_factory, clock, bus = (
        infrastructure.uow_factory, infrastructure.clock, infrastructure.bus)
    admin_tokens = infrastructure.admin_tokens
    metrics, metrics_server = infrastructure.metrics, infrastructure.metrics_server
    # The hosted UI's pending sign-in cookie is signed with our keys, checked with their
    # public halves (the same on every console task).
    signer, signing_keys = infrastructure.signer, infrastructure.keyring

    rate_limits = providers.Singleton(rate_limits, settings, infrastructure.rate_limiter)
    session_events = providers.Singleton(BusSessionEvents, bus, providers.Object(None))
    revocations = providers.Singleton(
        RevocationFollower, bus, providers.Object(None), infrastructure.keyring)
    reload_keys = providers.Callable(lambda ring: ring.reload, infrastructure.keyring)

    session_limits = providers.Singleton(session_limits, settings)
    start_console_session = providers.Singleton(
        StartConsoleSession, uow_factory, clock, session_limits)
    resume_console_session = providers.Singleton(
        ResumeConsoleSession, uow_factory, clock, session_limits,
        infrastructure.admin_directory)
    end_console_session = providers.Singleton(EndConsoleSession, uow_factory, clock)

    login = providers.Singleton(
        LocalAdminLogin, uow_factory, infrastructure.password_hasher, infrastructure.signer,
        infrastructure.policy, clock, providers.Callable(admin_token_ttl, settings))
    show_overview = providers.Singleton(
        ShowOverview, uow_factory, infrastructure.key_store,
        providers.Callable(queue_depth, infrastructure.job_queue.provider), clock,
        infrastructure.socket_census)
    search_users = providers.Singleton(SearchUsers, uow_factory)
    show_user = providers.Singleton(ShowUser, uow_factory, clock)
    disable_user = providers.Singleton(
        SetUserStatus, uow_factory, infrastructure.identity, clock, session_events,
        enable=False)
    enable_user = providers.Singleton(
        SetUserStatus, uow_factory, infrastructure.identity, clock, session_events,
        enable=True)
    revoke_device = providers.Singleton(RevokeUserDevice, uow_factory, clock, session_events)
    list_keys = providers.Singleton(ListKeys, infrastructure.key_store)
    rotate_keys_now = providers.Singleton(
        RotateKeysNow, infrastructure.rotate_keys, uow_factory, clock, reload_keys)
    revoke_signing_key = providers.Singleton(
        RevokeSigningKey, providers.Singleton(RevokeKey, infrastructure.key_store, clock, bus),
        infrastructure.rotate_keys, uow_factory, clock, reload_keys)
    search_images = providers.Singleton(SearchImages, uow_factory)
    image_links = providers.Singleton(
        ImageLinks, infrastructure.object_store, settings.provided.image_url_ttl_seconds)
    hide_image = providers.Singleton(HideImage, uow_factory, clock)
    delete_image = providers.Singleton(
        DeleteImageAsAdmin, uow_factory, infrastructure.object_store, bus, clock)
    publish_broadcast = providers.Singleton(Broadcast, bus, uow_factory, clock)
    list_audit_log = providers.Singleton(ListAuditLog, uow_factory)
