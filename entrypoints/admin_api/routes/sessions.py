from litestar import post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from application.admin.local_admins import LocalAdminLogin
from domain.admins.model import InvalidAdminCredentials, LocalLoginDisabled
from entrypoints.admin_api.openapi import BODY, errors
from entrypoints.admin_api.schemas import AdminSessionView, AdminView, LoginRequest
from entrypoints.wiring.di import Injected
from entrypoints.wiring.settings import Settings


@post("/sessions", status_code=HTTP_200_OK, opt={"limit": "sessions"}, tags=["sessions"],
      responses=errors(BODY, InvalidAdminCredentials, LocalLoginDisabled),
      summary="Local admin log-in (embedded default): a short-lived "
      "admin token")
async def login(
    data: JSONBody[LoginRequest], login: Injected[LocalAdminLogin], settings: Injected[Settings],
    source_ip: Injected[str],
) -> AdminSessionView:
    """Local admin log-in for the embedded default (`atelier admin create`): answers a short-lived
    admin token. In AWS admins sign in through Cognito instead. Locked after repeated failures."""
    if settings.admin_auth != "local":
        raise LocalLoginDisabled()
    session = await login(data.email, data.password, source_ip)
    return AdminSessionView(session.token, "Bearer", session.expires_in,
                            AdminView(session.admin.id, session.admin.email))
