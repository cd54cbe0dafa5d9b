"""The web console at `/`: server-rendered pages over the admin use cases, behind the admin
API's network allow-list, for signed-in admins only."""

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import ControllerRouterHandler

from entrypoints.admin_api.network import AllowList, AllowListGate
from entrypoints.console.container import ConsoleContainer
from entrypoints.console.errors import DENIED_PAGE, EXCEPTION_HANDLERS
from entrypoints.console.routes.auth import (
    hosted_ui_callback,
    hosted_ui_login,
    sign_in,
    sign_in_form,
    sign_out,
)
from entrypoints.console.routes.images import ImagesPages
from entrypoints.console.routes.pages import (
    audit,
    broadcast,
    broadcast_form,
    confirm_revoke_key,
    deletions,
    keys,
    overview,
    revoke_key,
    rotate_keys,
)
from entrypoints.console.routes.users import UsersPages
from entrypoints.console.web import (
    LOOPBACK_HTTP,
    HeadAsGet,
    SecurityHeaders,
    provide_console,
)
from entrypoints.http_edge.logging import RequestLogMiddleware
from entrypoints.http_edge.metrics import RequestMetrics
from entrypoints.http_edge.rate_limit import RateLimitHook
from entrypoints.http_edge.source_ip import SOURCE_IP
from entrypoints.wiring.di import ResolvedProviders
from entrypoints.wiring.lifespan import running

HERE = Path(__file__).resolve().parent
STATIC_PATH = "/static"
MAX_BODY_BYTES = 64 * 1024


def when(value: datetime | None) -> str:
    """`2026-11-30 14:05 UTC`; a dash when there is no time."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "—"


def templates() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["when"] = when
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def routes(resolved: ResolvedProviders) -> Sequence[ControllerRouterHandler]:
    signed_in = Router(
        "/", route_handlers=[overview, UsersPages, ImagesPages, keys, rotate_keys,
                             confirm_revoke_key, revoke_key, broadcast_form, broadcast, audit,
                             deletions],
        dependencies={"console": Provide(provide_console)})
    static = create_static_files_router(
        STATIC_PATH, directories=[HERE / "static"], opt={"skip_rate_limit": True},
        cache_control=CacheControlHeader(max_age=300, private=True))
    return [static, Router(
        "/", route_handlers=[sign_in_form, sign_in, sign_out, hosted_ui_login,
                             hosted_ui_callback, signed_in],
        before_request=RateLimitHook(resolved.getter("rate_limits")))]


def create_litestar(
    container: ConsoleContainer, *, shares_infrastructure: bool = False,
    loopback_http_cookies: bool = False,
) -> Litestar:
    """`loopback_http_cookies` (`atelier dev`): cookies without Secure on plain http to a
    loopback host, where a browser would not keep a Secure one."""
    resolved = ResolvedProviders(container)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with running(container, resolved, shares_infrastructure=shares_infrastructure):
            measured.metrics = resolved.value("metrics")
            revocations: Any = resolved.value("revocations")
            async with revocations.running():
                try:
                    yield
                finally:
                    hosted_ui = app.state.get("console_hosted_ui")
                    if hosted_ui is not None:
                        await hosted_ui.aclose()

    app = Litestar(
        route_handlers=list(routes(resolved)),
        dependencies={**resolved.dependencies(), "source_ip": SOURCE_IP},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[RequestLogMiddleware],
        template_config=templates(),
        openapi_config=None,
        lifespan=[lifespan],
        logging_config=None,
        request_max_body_size=MAX_BODY_BYTES,
    )
    app.state[LOOPBACK_HTTP] = loopback_http_cookies
    # Outside the router, so a 404 is measured too (as for the APIs).
    measured = RequestMetrics(app.asgi_handler, "console")
    app.asgi_handler = measured
    return app


def create_app(
    container: ConsoleContainer, *, shares_infrastructure: bool = False,
    loopback_http_cookies: bool = False,
) -> HeadAsGet:
    """The console behind the admin allow-list (every path; `/healthz` and `/readyz`
    answer from anywhere), every answer with the console's security headers; `HEAD` answers
    as `GET` without the body."""
    settings = container.settings()
    return HeadAsGet(SecurityHeaders(AllowListGate(
        create_litestar(container, shares_infrastructure=shares_infrastructure,
                        loopback_http_cookies=loopback_http_cookies),
        AllowList.parse(settings.admin_allowed_cidrs), settings.trusted_proxy_hops,
        denied=(b"text/html; charset=utf-8", DENIED_PAGE))))
