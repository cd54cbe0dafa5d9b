"""The embedded default: every entrypoint on one port, routed by path as the ALB routes.

Each entrypoint stays its own app with its own composition root; this dispatcher only
forwards by path prefix (most specific first) and runs every app's lifespan.
"""

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.mobile_api.app import create_app as create_mobile_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.settings import Settings


class PathDispatcher:
    """ASGI app: `(prefix, app)` routes like the ALB's path rules, plus a default app."""

    def __init__(
        self, routes: Sequence[tuple[str, ASGIApp]], default: ASGIApp,
        background: Sequence[Callable[[], contextlib.AbstractAsyncContextManager[Any]]] = (),
    ) -> None:
        self._routes = sorted(routes, key=lambda r: len(r[0]), reverse=True)
        self._default = default
        self._apps = [app for _, app in self._routes] + [default]
        self._background = background  # e.g. the image worker: started after the apps

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
async def _lifespan_of(app: ASGIApp, scope: Scope) -> Any:
    """Drives one app's lifespan protocol from the outside."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        await outbox.put(message)

    task = asyncio.create_task(app(dict(scope), receive, send))  # type: ignore[arg-type]
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
async def running_worker(container: Any) -> Any:
    """The image worker as a background task: resources up, worker running, drained on exit."""
    from entrypoints.wiring.di import resolve

    container.check_dependencies()
    await container.init_resources()
    try:
        worker = await resolve(container.worker)
        async with worker.running():
            yield
    finally:
        await container.shutdown_resources()


def create_dev_app(settings: Settings) -> PathDispatcher:
    from dependency_injector import providers

    from adapters.memory.bus import InMemoryRealtimeBus
    from entrypoints.admin_api.app import ADMIN_PREFIX
    from entrypoints.admin_api.app import create_app as create_admin_app
    from entrypoints.admin_api.container import AdminContainer
    from entrypoints.edge_gateway.app import REALTIME_PATH
    from entrypoints.edge_gateway.app import create_app as create_gateway_app
    from entrypoints.edge_gateway.container import GatewayContainer
    from entrypoints.image_worker.container import WorkerContainer

    mobile_container = MobileContainer(settings=settings)
    gateway_container = GatewayContainer(settings=settings)
    admin_container = AdminContainer(settings=settings)
    worker_container = WorkerContainer(settings=settings)
    if not settings.redis_url:
        # One in-memory bus for the whole process: what the origin publishes reaches the
        # sockets of the gateway mounted beside it.
        shared_bus = InMemoryRealtimeBus()
        mobile_container.bus.override(providers.Object(shared_bus))
        gateway_container.bus.override(providers.Object(shared_bus))
        admin_container.bus.override(providers.Object(shared_bus))
        worker_container.bus.override(providers.Object(shared_bus))
    mobile = create_mobile_app(mobile_container)
    routes: list[tuple[str, ASGIApp]] = [(REALTIME_PATH, create_gateway_app(gateway_container))]
    routes.append((ADMIN_PREFIX, create_admin_app(admin_container)))
    # The image worker (and its notification relay) runs in this process, as in production
    # it runs as its own service.
    return PathDispatcher(routes, default=mobile,
                          background=[lambda: running_worker(worker_container)])
