from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from adapters.crypto.eddsa import InvalidToken
from application.auth.authenticate import Principal
from application.auth.principal_cache import CachedAuthenticator
from application.ports.tokens import InvalidAccessToken
from entrypoints.wiring.di import Injected


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidAccessToken()
    return token.strip()


async def provide_principal(
    request: Request[Any, Any, Any], authenticator: Injected[CachedAuthenticator]
) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise InvalidAccessToken("a bearer access token is required")
    try:
        return await authenticator(token)
    except InvalidToken:
        raise InvalidAccessToken() from None


async def provide_optional_principal(
    request: Request[Any, Any, Any], authenticator: Injected[CachedAuthenticator]
) -> Principal | None:
    if request.headers.get("authorization") is None:
        return None
    return await provide_principal(request, authenticator)


CurrentUser = NamedDependency[Principal]
MaybeUser = NamedDependency[Principal | None]
