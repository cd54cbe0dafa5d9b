"""A member's copy of their data (GDPR art. 15 and 20): a zip built once, kept a while."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.shared.errors import Conflict

KEPT_FOR = timedelta(days=7)


class ExportStatus(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class ExportInProgress(Conflict):
    """The user has an export queued or building; one at a time."""

    code = "export_in_progress"


def export_key_for(user_id: str, export_id: str) -> str:
    """Where the zip lives: under the user's own prefix, named by ids no one else has."""
    return f"exports/{user_id}/{export_id}.zip"


@dataclass
class DataExport:
    id: str
    user_id: str
    status: ExportStatus
    created_at: datetime
    completed_at: datetime | None = None
    expires_at: datetime | None = None
    object_key: str | None = None

    @classmethod
    def request(cls, export_id: str, user_id: str, now: datetime) -> "DataExport":
        return cls(id=export_id, user_id=user_id, status=ExportStatus.QUEUED, created_at=now)

    @property
    def active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.BUILDING)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def start(self) -> None:
        self.status = ExportStatus.BUILDING

    def complete(self, now: datetime) -> None:
        self.status = ExportStatus.READY
        self.object_key = export_key_for(self.user_id, self.id)
        self.completed_at, self.expires_at = now, now + KEPT_FOR

    def fail(self, now: datetime) -> None:
        self.status = ExportStatus.FAILED
        self.completed_at = now
