"""The edge gateway as a Litestar app: `GET /v1/realtime?token=...` (WebSocket), health."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Response, asgi, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import Receive, Scope, Send

from entrypoints.edge_gateway.census import reporting_sockets
from entrypoints.edge_gateway.container import GatewayContainer
from entrypoints.edge_gateway.gateway import STEP_TIMEOUT, Gateway, bounded
from entrypoints.edge_gateway.target_watch import watching_target
from entrypoints.http_edge.errors import EXCEPTION_HANDLERS, error_body
from entrypoints.http_edge.logging import redact_tokens_in_server_logs
from entrypoints.wiring.lifespan import running

REALTIME_PATH = "/v1/realtime"
INTERNAL_ERROR_CLOSE = 4500  # what Litestar closes a socket with when its handler raises


class GatewayApp(Litestar):
    """Litestar, except that a socket to `REALTIME_PATH` itself goes straight to the gateway.

    An open socket holds its whole chain of ASGI coroutines for as long as it stays open:
    Litestar's router, exception middleware and copy of the scope came to ~2.7 KiB per idle
    socket. Whatever else reaches the app, a differently spelled path to the same handler
    included, is Litestar's as before."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and scope["path"] == REALTIME_PATH:
            try:
                await self.state.gateway.handle(scope, receive, send)
            except Exception:
                # as Litestar's exception middleware answers a websocket handler's error
                await send({"type": "websocket.close", "code": INTERNAL_ERROR_CLOSE,
                            "reason": "Internal Server Error"})
            return
        await super().__call__(scope, receive, send)


@asgi(REALTIME_PATH, is_mount=False, copy_scope=False)
async def realtime(scope: Scope, receive: Receive, send: Send) -> None:
    gateway: Gateway = scope["litestar_app"].state.gateway
    if scope["type"] == ScopeType.WEBSOCKET:
        await gateway.handle(scope, receive, send)
        return
    response = Response(error_body("upgrade_required", "this is a WebSocket endpoint"),
                        status_code=426, media_type=MediaType.JSON,
                        headers={"Upgrade": "websocket"})
    await response.to_asgi_response(scope["litestar_app"], None)(scope, receive, send)  # type: ignore[arg-type]


@get(["/healthz", f"{REALTIME_PATH}/healthz"], tags=["system"], summary="Alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(["/readyz", f"{REALTIME_PATH}/readyz"], tags=["system"],
     summary="Bus subscription alive, keys loaded, accepting sockets")
async def readyz(state: State) -> Response[dict[str, Any]]:
    gateway: Gateway = state.gateway
    checks = gateway.readiness()
    ready = all(v == "ok" for v in checks.values())
    return Response({"status": "ok" if ready else "unavailable", "checks": checks,
                     "connections": gateway.connections},
                    status_code=200 if ready else 503, media_type=MediaType.JSON,
                    headers={"Cache-Control": "no-store"})


@asynccontextmanager
async def serving(
    container: GatewayContainer, app: Litestar, shares_infrastructure: bool
) -> AsyncIterator[None]:
    async with bounded_exit("infrastructure: close", STEP_TIMEOUT,
                            running(container, shares_infrastructure=shares_infrastructure)
                            ) as resolved:
        gateway: Gateway = resolved.value("gateway")
        async with gateway.running(), reporting_sockets(
                resolved.value("census"), resolved.value("node"), lambda: gateway.connections,
                resolved.value("census_interval")), watching_target(
                resolved.value("target_health"),
                lambda: gateway.drain(resolved.value("drain_seconds")),
                resolved.value("target_poll")):
            app.state.gateway = gateway
            yield


@asynccontextmanager
async def bounded_exit(step: str, seconds: float, context: Any) -> AsyncIterator[Any]:
    """`context`, whose exit may take at most `seconds` (logged by name when it hangs)."""
    value = await context.__aenter__()
    try:
        yield value
    except BaseException as exc:
        await bounded(step, context.__aexit__(type(exc), exc, exc.__traceback__), seconds)
        raise
    await bounded(step, context.__aexit__(None, None, None), seconds)


def create_app(container: GatewayContainer, *, shares_infrastructure: bool = False) -> Litestar:
    redact_tokens_in_server_logs()
    return GatewayApp(
        route_handlers=[realtime, healthz, readyz],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lambda app: serving(container, app, shares_infrastructure)],
        openapi_config=None,
        logging_config=None,
    )
