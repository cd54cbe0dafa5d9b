"""An HTTP API over a composition root, built the same way for the mobile and admin APIs."""

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

from dependency_injector import containers
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from entrypoints.http_edge.docs_page import OfflineSwagger, docs_router
from entrypoints.http_edge.errors import EXCEPTION_HANDLERS
from entrypoints.http_edge.json_body import JsonBodyRequest
from entrypoints.http_edge.logging import RequestLogMiddleware
from entrypoints.http_edge.metrics import RequestMetrics
from entrypoints.http_edge.openapi_examples import documented_operation
from entrypoints.http_edge.source_ip import SOURCE_IP
from entrypoints.http_edge.tracing import TracingMiddleware
from entrypoints.wiring.di import ResolvedProviders
from entrypoints.wiring.lifespan import running


class Background(Protocol):
    """Work that runs beside an app for its whole life (the outbox relay, revocations)."""

    def running(self) -> contextlib.AbstractAsyncContextManager[None]: ...


def api_docs(
    title: str, prefix: str, *, description: str, bearer_on_every_route: bool = False
) -> OpenAPIConfig:
    """The OpenAPI document at `<prefix>/schema` (JSON and Swagger UI, served offline); each
    operation is described by its handler's docstring."""
    return OpenAPIConfig(
        title=title,
        version="1.0.0",
        description=description,
        use_handler_docstrings=True,
        path=f"{prefix}/schema",
        openapi_router=docs_router(f"{prefix}/schema"),
        render_plugins=[JsonRenderPlugin(), OfflineSwagger(f"{prefix}/schema")],
        components=Components(security_schemes={
            "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}),
        security=[{"bearer": []}] if bearer_on_every_route else None,
    )


def create_api(
    container: containers.Container,
    routes: Callable[[ResolvedProviders], Sequence[ControllerRouterHandler]],
    docs: OpenAPIConfig,
    *,
    background: Sequence[str] = (),
    shares_infrastructure: bool = False,
    entrypoint: str = "api",
    examples: Mapping[str, Any] | None = None,
    **options: Any,
) -> Litestar:
    """Handlers get the container's providers by parameter name (and `source_ip`); errors
    map to responses in one place; every request is logged. The lifespan starts the
    container (`running`) and then its `background` providers, stopped in reverse order."""
    resolved = ResolvedProviders(container)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with (
            running(container, resolved, shares_infrastructure=shares_infrastructure),
            contextlib.AsyncExitStack() as stack,
        ):
            measured.metrics = resolved.value("metrics")
            for name in background:
                task: Background = resolved.value(name)
                await stack.enter_async_context(task.running())
            yield

    app = Litestar(
        route_handlers=list(routes(resolved)),
        dependencies={**resolved.dependencies(), "source_ip": SOURCE_IP},
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=JsonBodyRequest,
        middleware=[TracingMiddleware, RequestLogMiddleware],  # the access line in the span
        openapi_config=docs,
        lifespan=[lifespan],
        logging_config=None,
        **options,
    )
    operation = documented_operation(examples or {})  # examples; only the errors routes list
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            handler.operation_class = operation
    # Outside the router (litestar's middleware runs inside it), so a 404 is measured too.
    measured = RequestMetrics(app.asgi_handler, entrypoint)
    app.asgi_handler = measured
    return app
