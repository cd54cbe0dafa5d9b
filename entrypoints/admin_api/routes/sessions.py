from litestar import Request, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from domain.admins.model import LocalLoginDisabled
from entrypoints.admin_api.auth import Services, source_ip
from entrypoints.admin_api.openapi import errors
from entrypoints.admin_api.schemas import AdminSessionView, AdminView, LoginRequest


@post("/sessions", status_code=HTTP_200_OK, opt={"limit": "sessions"}, tags=["sessions"],
      responses=errors(401), summary="Local admin log-in (embedded default): a short-lived "
      "admin token")
async def login(
    data: JSONBody[LoginRequest], services: Services, request: Request
) -> AdminSessionView:  # type: ignore[type-arg]
    if services.settings.admin_auth != "local":
        raise LocalLoginDisabled()
    session = await services.login(data.email, data.password, source_ip(request))
    return AdminSessionView(session.token, "Bearer", session.expires_in,
                            AdminView(session.admin.id, session.admin.email))
