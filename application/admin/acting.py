from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.admins.model import AdminIdentity, AuditEntry


@dataclass(frozen=True)
class Acting:
    """An admin request: who acts, from which address and, when they gave one, why; all of
    it goes to the audit log."""

    admin: AdminIdentity
    source_ip: str | None = None
    reason: str | None = None

    def entry(
        self, action: str, target_type: str, target_id: str, now: datetime, **details: Any
    ) -> AuditEntry:
        if self.reason:
            details["reason"] = self.reason
        return AuditEntry.of(
            self.admin, action, target_type, target_id, now, self.source_ip, **details)
