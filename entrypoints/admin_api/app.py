"""The admin API as a Litestar app under `/v1/api/admin`, behind its network allow-list."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.admin_api.auth import provide_acting
from entrypoints.admin_api.container import AdminContainer
from entrypoints.admin_api.network import AllowList, AllowListGate
from entrypoints.admin_api.routes.audit import audit_log
from entrypoints.admin_api.routes.images import ImagesController
from entrypoints.admin_api.routes.keys import KeysController
from entrypoints.admin_api.routes.realtime import broadcast
from entrypoints.admin_api.routes.sessions import login
from entrypoints.admin_api.routes.users import UsersController
from entrypoints.http_edge.errors import EXCEPTION_HANDLERS
from entrypoints.http_edge.json_body import JsonBodyRequest
from entrypoints.http_edge.logging import RequestLogMiddleware
from entrypoints.http_edge.rate_limit import RateLimitHook
from entrypoints.http_edge.source_ip import SOURCE_IP
from entrypoints.wiring.di import ResolvedProviders, resolve
from entrypoints.wiring.lifespan import running

ADMIN_PREFIX = "/v1/api/admin"
HEALTH_PATH = f"{ADMIN_PREFIX}/healthz"


@get("/healthz", tags=["system"], summary="Alive (open to the load balancer)",
     opt={"skip_rate_limit": True})
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Atelier admin API",
        version="1.0.0",
        path=f"{ADMIN_PREFIX}/schema",
        render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
        components=Components(security_schemes={
            "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}),
        security=[{"bearer": []}],
    )


def admin_router(resolved: ResolvedProviders) -> Router:
    authenticated = Router(
        "/", route_handlers=[UsersController, ImagesController, KeysController, broadcast,
                             audit_log],
        dependencies={"admin": Provide(provide_acting)},
        security=[{"bearer": []}])
    return Router(ADMIN_PREFIX, route_handlers=[login, healthz, authenticated],
                  before_request=RateLimitHook(resolved.getter("rate_limits")))


@asynccontextmanager
async def serving(
    container: AdminContainer, resolved: ResolvedProviders, shares_infrastructure: bool
) -> AsyncIterator[None]:
    async with running(container, resolved, shares_infrastructure=shares_infrastructure):
        revocations = await resolve(container.revocations)
        async with revocations:
            yield


def create_litestar(container: AdminContainer, *, shares_infrastructure: bool = False) -> Litestar:
    resolved = ResolvedProviders(container)
    return Litestar(
        route_handlers=[admin_router(resolved)],
        dependencies={**resolved.dependencies(), "source_ip": SOURCE_IP},
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=JsonBodyRequest,
        middleware=[RequestLogMiddleware],
        openapi_config=openapi_config(),
        lifespan=[lambda app: serving(container, resolved, shares_infrastructure)],
        logging_config=None,
    )


def create_app(container: AdminContainer, *, shares_infrastructure: bool = False) -> AllowListGate:
    """The admin app behind its allow-list (every path, unknown ones included)."""
    settings = container.settings()
    return AllowListGate(
        create_litestar(container, shares_infrastructure=shares_infrastructure),
        AllowList.parse(settings.admin_allowed_cidrs),
        settings.trusted_proxy_hops, open_paths=frozenset({HEALTH_PATH}))
