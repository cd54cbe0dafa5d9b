"""The admin API as a Litestar app under `/v1/api/admin`, behind its network allow-list."""

from collections.abc import Sequence

from litestar import Litestar, Router, get
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from entrypoints.admin_api.auth import provide_acting
from entrypoints.admin_api.container import AdminContainer
from entrypoints.admin_api.examples import EXAMPLES
from entrypoints.admin_api.network import AllowList, AllowListGate
from entrypoints.admin_api.routes.audit import audit_log
from entrypoints.admin_api.routes.images import ImagesController
from entrypoints.admin_api.routes.keys import KeysController
from entrypoints.admin_api.routes.realtime import broadcast
from entrypoints.admin_api.routes.sessions import login
from entrypoints.admin_api.routes.users import UsersController
from entrypoints.http_edge.api import api_docs, create_api
from entrypoints.http_edge.rate_limit import RateLimitHook
from entrypoints.wiring.di import ResolvedProviders

ADMIN_PREFIX = "/v1/api/admin"
HEALTH_PATH = f"{ADMIN_PREFIX}/healthz"


@get("/healthz", tags=["system"], summary="Alive (open to the load balancer)",
     opt={"skip_rate_limit": True})
async def healthz() -> dict[str, str]:
    """The admin API's process is alive (for the load balancer, which reaches it from outside
    the allow-list); checks nothing else."""
    return {"status": "ok"}


def routes(resolved: ResolvedProviders) -> Sequence[ControllerRouterHandler]:
    authenticated = Router(
        "/", route_handlers=[UsersController, ImagesController, KeysController, broadcast,
                             audit_log],
        dependencies={"admin": Provide(provide_acting)}, security=[{"bearer": []}])
    return [Router(ADMIN_PREFIX, route_handlers=[login, healthz, authenticated],
                   before_request=RateLimitHook(resolved.getter("rate_limits")))]


DESCRIPTION = """The operators' API: users and their devices, images (moderation), signing
keys, broadcasts on the realtime socket, and the audit log of every admin action. Reachable
only from the allow-listed addresses; every operation needs an admin token
(`POST /v1/api/admin/sessions` locally, Cognito's `admins` group in AWS). Every error
answers `{"error": {"code", "message"}}`; each operation lists the codes it may carry."""


def create_litestar(container: AdminContainer, *, shares_infrastructure: bool = False) -> Litestar:
    return create_api(
        container, routes,
        api_docs("Atelier admin API", ADMIN_PREFIX, description=DESCRIPTION,
                 bearer_on_every_route=True),
        background=("revocations",),  # keys revoked elsewhere stop verifying admin tokens
        shares_infrastructure=shares_infrastructure, entrypoint="admin_api",
        examples=EXAMPLES)


def create_app(container: AdminContainer, *, shares_infrastructure: bool = False) -> AllowListGate:
    """The admin app behind its allow-list (every path, unknown ones included)."""
    settings = container.settings()
    return AllowListGate(
        create_litestar(container, shares_infrastructure=shares_infrastructure),
        AllowList.parse(settings.admin_allowed_cidrs),
        settings.trusted_proxy_hops, open_paths=frozenset({HEALTH_PATH}))
