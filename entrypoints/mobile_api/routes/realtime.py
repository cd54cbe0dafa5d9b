from typing import Any

from litestar import Request, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK

from application.auth.tokens import TokenFactory
from domain.shared.clock import utcnow
from entrypoints.mobile_api.auth import CurrentUser, provide_principal
from entrypoints.mobile_api.openapi import SIGNED_IN, errors
from entrypoints.mobile_api.schemas import RealtimeTokenView
from entrypoints.wiring.di import Injected
from entrypoints.wiring.settings import Settings


@post("/realtime/token", status_code=HTTP_200_OK, tags=["realtime"],
      dependencies={"principal": Provide(provide_principal)}, responses=errors(SIGNED_IN),
      security=[{"bearer": []}], summary="A 60-second token for the edge WebSocket gateway")
async def realtime_token(
    tokens: Injected[TokenFactory], settings: Injected[Settings], principal: CurrentUser,
    request: Request[Any, Any, Any],
) -> RealtimeTokenView:
    """A 60-second connection token for the realtime WebSocket, and the `url` to open with it
    (`/v1/realtime?token=...`). Ask for a new one for every connection attempt."""
    channels = [f"user:{principal.user.id}", "broadcast"]
    token = tokens.connection_token(
        principal.user.id, principal.device_id, channels, utcnow())
    url = settings.realtime_url
    if not url:
        scheme = "wss" if request.url.scheme == "https" else "ws"
        url = f"{scheme}://{request.url.netloc}/v1/realtime"
    ttl = settings.connection_token_ttl_seconds
    return RealtimeTokenView(token=token, expires_in=ttl, url=url)
