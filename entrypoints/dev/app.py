"""The embedded default: every entrypoint on one port, routed by path as the ALB routes.

Each entrypoint stays its own app with its own composition root; this dispatcher only
forwards by path prefix (most specific first) and runs every app's lifespan.
"""

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.common.settings import Settings
from entrypoints.mobile_api.app import create_app as create_mobile_app
from entrypoints.mobile_api.container import MobileContainer


class PathDispatcher:
    """ASGI app: `(prefix, app)` routes like the ALB's path rules, plus a default app."""

    def __init__(self, routes: Sequence[tuple[str, ASGIApp]], default: ASGIApp) -> None:
        self._routes = sorted(routes, key=lambda r: len(r[0]), reverse=True)
        self._default = default
        self._apps = [app for _, app in self._routes] + [default]

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


def create_dev_app(settings: Settings) -> PathDispatcher:
    mobile = create_mobile_app(MobileContainer(settings=settings))
    routes: list[tuple[str, ASGIApp]] = []
    return PathDispatcher(routes, default=mobile)
