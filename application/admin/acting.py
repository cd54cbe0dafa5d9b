from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.admins.model import AdminIdentity, AuditEntry


@dataclass(frozen=True)
class Acting:
    """An admin request: who acts and from which address, for the audit log."""

    admin: AdminIdentity
    source_ip: str | None = None

    def entry(
        self, action: str, target_type: str, target_id: str, now: datetime, **details: Any
    ) -> AuditEntry:
        return AuditEntry.of(
            self.admin, action, target_type, target_id, now, self.source_ip, **details)
