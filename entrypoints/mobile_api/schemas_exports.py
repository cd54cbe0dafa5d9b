"""Bodies of data exports (POST /me/exports, GET /me/exports/{id})."""

from datetime import datetime
from typing import Literal

import msgspec

from application.exports.request_export import ExportDetails

ExportStatusName = Literal["queued", "building", "ready", "failed"]


class ExportAccepted(msgspec.Struct):
    id: str
    status: Literal["queued"] = "queued"


class ExportView(msgspec.Struct):
    """An export's status; `url` (short-lived) once ready, until `expires_at`."""

    id: str
    status: ExportStatusName
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    url: str | None

    @classmethod
    def of(cls, details: ExportDetails) -> "ExportView":
        export = details.export
        return cls(
            id=export.id, status=export.status.value,
            created_at=export.created_at, completed_at=export.completed_at,
            expires_at=export.expires_at, url=details.url)
