"""The embedded default: every entrypoint on one port, routed by path as the ALB routes.

Each entrypoint stays its own app with its own composition root, all of them on one
infrastructure; this dispatcher forwards by path prefix (most specific first), runs every
app's lifespan (each starts what it uses of the infrastructure), and closes it last.
"""

import asyncio
import contextlib
import logging
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Mapping,
    MutableMapping,
    Sequence,
)
from typing import Any, Literal, Protocol

from dependency_injector import providers

from application.maintenance.retention import RunRetention
from entrypoints.cli.container import CliContainer
from entrypoints.image_worker.container import WorkerContainer
from entrypoints.image_worker.worker import ImageWorker
from entrypoints.mobile_api.app import API_PREFIX
from entrypoints.mobile_api.app import create_app as create_mobile_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.builders import build_socket_census, run_realtime_jwks
from entrypoints.wiring.di import ResolvedProviders
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.lifespan import running
from entrypoints.wiring.settings import Settings

# Plain ASGI (litestar's own types leave the lifespan messages out).
Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Coroutine[Any, Any, None]]

RETENTION_FIRST_AFTER, RETENTION_EVERY = 60.0, 3600.0
"""Seconds: `atelier maintenance run`'s work, a minute after start and then hourly."""

log = logging.getLogger("atelier.dev")

MOBILE_PATHS = (API_PREFIX, "/.well-known", "/healthz", "/readyz")
"""What the mobile API answers; the web console answers every other path."""


class MaintenanceMetrics(Protocol):
    def maintenance_finished(
        self, outcome: Literal["succeeded", "failed"], deleted: Mapping[str, int]
    ) -> None: ...


class PathDispatcher:
    """ASGI app: `(prefix, app)` routes like the ALB's path rules, plus a default app.

    Given the `infrastructure` the apps share, each app starts what it uses of it (once,
    whoever comes first), and it is closed once, after every app and background task has
    stopped."""

    def __init__(
        self, routes: Sequence[tuple[str, ASGIApp]], default: ASGIApp,
        background: Sequence[Callable[[], contextlib.AbstractAsyncContextManager[Any]]] = (),
        infrastructure: Infrastructure | None = None,
    ) -> None:
        self._routes = sorted(routes, key=lambda r: len(r[0]), reverse=True)
        self._default = default
        # One app may serve several prefixes; each runs its lifespan once.
        self._apps: list[ASGIApp] = []
        for app in [*(app for _, app in self._routes), default]:
            if all(app is not seen for seen in self._apps):
                self._apps.append(app)
        self._background = background  # e.g. the image worker: started after the apps
        self._infrastructure = infrastructure

    def _pick(self, path: str) -> ASGIApp:
        for prefix, app in self._routes:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return app
        return self._default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        await self._pick(scope["path"])(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        stack = contextlib.AsyncExitStack()
        try:
            if self._infrastructure is not None:
                # Each app starts what it uses of it; closed once, after every app.
                await stack.enter_async_context(running(
                    self._infrastructure, ResolvedProviders(self._infrastructure, only=())))
            for app in self._apps:
                await stack.enter_async_context(_lifespan_of(app, scope))
            for start in self._background:
                await stack.enter_async_context(start())
        except Exception as exc:
            await stack.aclose()
            await send({"type": "lifespan.startup.failed", "message": repr(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})


@contextlib.asynccontextmanager
async def _lifespan_of(app: ASGIApp, scope: Scope) -> AsyncIterator[None]:
    """Drives one app's lifespan protocol from the outside."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        await outbox.put(message)

    task = asyncio.create_task(app(dict(scope), receive, send))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"an entrypoint failed to start: {started.get('message')}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


@contextlib.asynccontextmanager
async def running_worker(container: WorkerContainer) -> AsyncIterator[None]:
    """The image worker as a background task on the shared infrastructure, drained on exit."""
    async with running(container, shares_infrastructure=True) as resolved:
        worker: ImageWorker = resolved.value("worker")
        async with worker.running():
            yield


@contextlib.asynccontextmanager
async def running_retention(
    container: CliContainer, first_after: float = RETENTION_FIRST_AFTER,
    every: float = RETENTION_EVERY, metrics: MaintenanceMetrics | None = None,
) -> AsyncIterator[None]:
    """Retention in the background, as the scheduled `atelier maintenance run` does it."""
    only = ResolvedProviders(container, only=["run_retention"])
    async with running(container, only, shares_infrastructure=True) as resolved:
        run_retention: RunRetention = resolved.value("run_retention")

        stop = asyncio.Event()

        async def stopped_within(seconds: float) -> bool:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)
            return stop.is_set()

        async def rounds() -> None:
            wait = first_after
            while not await stopped_within(wait):
                try:
                    deleted = await run_retention()
                    log.info("retention: %s", deleted)
                    if metrics is not None:
                        metrics.maintenance_finished("succeeded", deleted)
                except Exception:
                    log.exception("retention failed; it runs again in %s s", every)
                    if metrics is not None:
                        metrics.maintenance_finished("failed", {})
                wait = every

        # Stopped between rounds, never cancelled inside one: a cancelled database call can
        # surface as an ordinary error, and the loop would go on. A dev round is short.
        task = asyncio.create_task(rounds())
        try:
            yield
        finally:
            stop.set()
            await task


def create_dev_app(
    settings: Settings, infrastructure: Infrastructure | None = None
) -> PathDispatcher:
    """Every entrypoint on ONE infrastructure: one engine, one bus (what the origin
    publishes reaches the sockets of the gateway mounted beside it), one key ring."""
    from entrypoints.admin_api.app import ADMIN_PREFIX
    from entrypoints.admin_api.app import create_app as create_admin_app
    from entrypoints.admin_api.container import AdminContainer
    from entrypoints.console.app import create_app as create_console_app
    from entrypoints.console.container import ConsoleContainer
    from entrypoints.edge_gateway.app import REALTIME_PATH
    from entrypoints.edge_gateway.app import create_app as create_gateway_app
    from entrypoints.edge_gateway.container import GatewayContainer

    infrastructure = infrastructure or Infrastructure(settings=settings)
    # The gateway reads the keys its origin publishes in this process: fetched over HTTP
    # from itself, the first fetch would fail, as nothing listens yet while it starts.
    infrastructure.realtime_jwks.override(providers.Resource(
        run_realtime_jwks, infrastructure.settings, infrastructure.keyring,
        metrics=infrastructure.metrics))
    # The console counts the sockets of the gateway beside it (in memory without Redis).
    infrastructure.socket_census.override(providers.Singleton(
        build_socket_census, infrastructure.redis, infrastructure.settings, embedded=True))
    mobile = create_mobile_app(
        MobileContainer(infrastructure=infrastructure), shares_infrastructure=True)
    routes: list[tuple[str, ASGIApp]] = [
        (REALTIME_PATH, create_gateway_app(
            GatewayContainer(infrastructure=infrastructure), shares_infrastructure=True)),
        (ADMIN_PREFIX, create_admin_app(
            AdminContainer(infrastructure=infrastructure), shares_infrastructure=True)),
        *((prefix, mobile) for prefix in MOBILE_PATHS),
    ]
    # Everything else is the web console, as the ALB's default rule sends it there.
    console = create_console_app(
        ConsoleContainer(infrastructure=infrastructure), shares_infrastructure=True,
        loopback_http_cookies=True)
    worker = WorkerContainer(infrastructure=infrastructure)
    operator = CliContainer(infrastructure=infrastructure)
    # The image worker (and its notification relay) runs in this process, as in production
    # it runs as its own service.
    return PathDispatcher(routes, default=console, infrastructure=infrastructure,
                          background=[lambda: running_worker(worker),
                                      lambda: running_retention(
                                          operator, metrics=infrastructure.metrics())])
