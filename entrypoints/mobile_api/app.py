"""The mobile API as a Litestar app: `/v1/api/...`, `/.well-known/jwks.json`, health."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.http_edge.errors import EXCEPTION_HANDLERS
from entrypoints.http_edge.json_body import JsonBodyRequest
from entrypoints.http_edge.logging import RequestLogMiddleware
from entrypoints.http_edge.rate_limit import RateLimitHook
from entrypoints.http_edge.source_ip import SOURCE_IP
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.mobile_api.routes.identity import (
    AccountsController,
    MeController,
    SessionsController,
)
from entrypoints.mobile_api.routes.images import ImagesController, signed_file
from entrypoints.mobile_api.routes.realtime import realtime_token
from entrypoints.mobile_api.routes.system import healthz, jwks, readyz
from entrypoints.mobile_api.routes.transfers import TransferCodesController
from entrypoints.wiring.di import ResolvedProviders, resolve
from entrypoints.wiring.lifespan import running

API_PREFIX = "/v1/api"
MAX_BODY_BYTES = 1 << 20


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Atelier mobile API",
        version="1.0.0",
        path=f"{API_PREFIX}/schema",
        render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
        components=Components(security_schemes={
            "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}),
    )


def api_router(resolved: ResolvedProviders) -> Router:
    return Router(
        API_PREFIX,
        route_handlers=[AccountsController, SessionsController, MeController,
                        TransferCodesController, realtime_token, ImagesController, signed_file],
        before_request=RateLimitHook(resolved.getter("rate_limits")),
    )


@asynccontextmanager
async def serving(
    container: MobileContainer, resolved: ResolvedProviders, shares_infrastructure: bool
) -> AsyncIterator[None]:
    async with running(container, resolved, shares_infrastructure=shares_infrastructure):
        relay = resolved.value("outbox_relay")
        revocations = await resolve(container.revocations)
        async with relay.running(), revocations:  # image.requested -> the job queue
            yield


def create_app(container: MobileContainer, *, shares_infrastructure: bool = False) -> Litestar:
    resolved = ResolvedProviders(container)
    return Litestar(
        route_handlers=[api_router(resolved), jwks, healthz, readyz],
        dependencies={**resolved.dependencies(), "source_ip": SOURCE_IP},
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=JsonBodyRequest,
        middleware=[RequestLogMiddleware],
        openapi_config=openapi_config(),
        lifespan=[lambda app: serving(container, resolved, shares_infrastructure)],
        logging_config=None,
        request_max_body_size=MAX_BODY_BYTES,
    )
