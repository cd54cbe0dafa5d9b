from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from application.admin.acting import Acting
from application.ports.admin import AdminTokenVerifier
from domain.shared.errors import Unauthorized
from entrypoints.wiring.di import Injected


class MissingToken(Unauthorized):
    """A bearer token of an admin is required."""

    code = "invalid_token"


async def provide_acting(
    request: Request[Any, Any, Any], admin_tokens: Injected[AdminTokenVerifier],
    source_ip: Injected[str],
) -> Acting:
    """The admin behind the bearer token, and the address the request came from."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken()
    admin = await admin_tokens.verify(token.strip())
    return Acting(admin, source_ip)


Admin = NamedDependency[Acting]
