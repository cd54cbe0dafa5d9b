from litestar import Request, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK

from domain.shared.clock import utcnow
from entrypoints.mobile_api.auth import CurrentUser, Services, provide_principal
from entrypoints.mobile_api.openapi import errors
from entrypoints.mobile_api.schemas import RealtimeTokenView


@post("/realtime/token", status_code=HTTP_200_OK, tags=["realtime"],
      dependencies={"principal": Provide(provide_principal)}, responses=errors(401, 403, 429),
      security=[{"bearer": []}], summary="A 60-second token for the edge WebSocket gateway")
async def realtime_token(
    services: Services, principal: CurrentUser, request: Request  # type: ignore[type-arg]
) -> RealtimeTokenView:
    channels = [f"user:{principal.user.id}", "broadcast"]
    token = services.tokens.connection_token(principal.user.id, channels, utcnow())
    url = services.settings.realtime_url
    if not url:
        scheme = "wss" if request.url.scheme == "https" else "ws"
        url = f"{scheme}://{request.url.netloc}/v1/realtime"
    ttl = services.settings.connection_token_ttl_seconds
    return RealtimeTokenView(token=token, expires_in=ttl, url=url)
