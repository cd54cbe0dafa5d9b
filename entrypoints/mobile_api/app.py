"""The mobile API as a Litestar app: `/v1/api/...`, `/.well-known/jwks.json`, health."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.http_edge.errors import EXCEPTION_HANDLERS
from entrypoints.http_edge.json_body import JsonBodyRequest
from entrypoints.http_edge.logging import RequestLogMiddleware
from entrypoints.http_edge.rate_limit import rate_limit_request
from entrypoints.mobile_api.auth import provide_services
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
from entrypoints.wiring.di import resolve

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


def api_router() -> Router:
    return Router(
        API_PREFIX,
        route_handlers=[AccountsController, SessionsController, MeController,
                        TransferCodesController, realtime_token, ImagesController, signed_file],
        before_request=rate_limit_request,
    )


@asynccontextmanager
async def running(container: MobileContainer, app: Litestar) -> AsyncIterator[None]:
    container.check_dependencies()
    await container.init_resources()
    try:
        app.state.services = await resolve(container.services)
        relay = await resolve(container.outbox_relay)
        async with relay.running():  # image.requested -> the job queue
            yield
    finally:
        await container.shutdown_resources()


def create_app(container: MobileContainer) -> Litestar:
    return Litestar(
        route_handlers=[api_router(), jwks, healthz, readyz],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=JsonBodyRequest,
        middleware=[RequestLogMiddleware],
        openapi_config=openapi_config(),
        lifespan=[lambda app: running(container, app)],
        logging_config=None,
        request_max_body_size=MAX_BODY_BYTES,
    )
