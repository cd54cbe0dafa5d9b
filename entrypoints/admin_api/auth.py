from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from application.admin.acting import Acting
from domain.shared.errors import Unauthorized
from entrypoints.admin_api.services import AdminServices
from entrypoints.http_edge.client_ip import client_ip


class MissingToken(Unauthorized):
    """A bearer token of an admin is required."""

    code = "invalid_token"


def provide_services(state: State) -> AdminServices:
    services: AdminServices = state.services
    return services


def source_ip(request: Request[Any, Any, Any]) -> str:
    return client_ip(request, provide_services(request.app.state).settings.trusted_proxy_hops)


async def provide_acting(request: Request[Any, Any, Any], state: State) -> Acting:
    """The admin behind the bearer token, and the address the request came from."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken()
    admin = await provide_services(state).admin_tokens.verify(token.strip())
    return Acting(admin, source_ip(request))


Services = NamedDependency[AdminServices]
Admin = NamedDependency[Acting]
