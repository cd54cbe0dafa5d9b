from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from adapters.crypto.eddsa import InvalidToken
from application.auth.authenticate import Principal
from application.ports.tokens import InvalidAccessToken
from entrypoints.mobile_api.services import MobileServices


def provide_services(state: State) -> MobileServices:
    services: MobileServices = state.services
    return services


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidAccessToken()
    return token.strip()


async def provide_principal(request: Request[Any, Any, Any], state: State) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise InvalidAccessToken("a bearer access token is required")
    try:
        return await provide_services(state).authenticate(token)
    except InvalidToken:
        raise InvalidAccessToken() from None


async def provide_optional_principal(
    request: Request[Any, Any, Any], state: State
) -> Principal | None:
    if request.headers.get("authorization") is None:
        return None
    return await provide_principal(request, state)


Services = NamedDependency[MobileServices]
CurrentUser = NamedDependency[Principal]
MaybeUser = NamedDependency[Principal | None]
