"""Data exports (GDPR art. 15 and 20): POST /me/exports, GET /me/exports/{id}."""

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.status_codes import HTTP_202_ACCEPTED

from application.exports.request_export import (
    ExportExpired,
    ExportNotFound,
    GetExport,
    RequestExport,
)
from domain.exports.model import ExportInProgress
from entrypoints.mobile_api.auth import CurrentUser, provide_principal
from entrypoints.mobile_api.openapi import SIGNED_IN, errors
from entrypoints.mobile_api.schemas_exports import ExportAccepted, ExportView
from entrypoints.wiring.di import Injected


class ExportsController(Controller):
    path = "/me/exports"
    tags = ["profile"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"bearer": []}]

    @post("/", status_code=HTTP_202_ACCEPTED, opt={"limit": "account"},
          responses=errors(SIGNED_IN, ExportInProgress),
          summary="Ask for a zip of one's data (profile, devices, images with prompts, PNGs)",
          description="One export at a time: while one is queued or building, another "
                      "answers 409 `export_in_progress`. Rate limited per address (429).")
    async def request_export(
        self, request_export: Injected[RequestExport], principal: CurrentUser,
    ) -> ExportAccepted:
        """Asks for a zip of the member's data (profile, devices, images with their prompts, the
        pictures); built in the background and announced by e-mail. One at a time."""
        export = await request_export(principal.user.id)
        return ExportAccepted(export.id)

    @get("/{export_id:str}", responses=errors(SIGNED_IN, ExportExpired, ExportNotFound),
         summary="An export's status (queued, building, ready, failed); a short-lived "
                 "download url once ready",
         description="404 `export_not_found` for an unknown id or another user's export; "
                     "404 `export_expired` once the export's week is over.")
    async def get_export(
        self, export_id: FromPath[str], get_export: Injected[GetExport],
        principal: CurrentUser,
    ) -> ExportView:
        """An export's status (`queued`, `building`, `ready`, `failed`), and a short-lived download
        `url` once it is ready."""
        return ExportView.of(await get_export(principal.user.id, export_id))
