"""In-memory local admins and audit log (the same contract as adapters/sql/admin.py)."""

import copy
from dataclasses import replace

from adapters.memory.workspace import Workspace
from domain.admins.model import AuditEntry, LocalAdmin
from domain.shared.errors import Conflict, NotFound


class InMemoryLocalAdminRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def get(self, admin_id: str) -> LocalAdmin | None:
        return copy.deepcopy(self._ws.tables.admins.get(admin_id))

    async def get_by_email(self, email: str) -> LocalAdmin | None:
        for admin in self._ws.tables.admins.values():
            if admin.email == email:
                return copy.deepcopy(admin)
        return None

    async def add(self, admin: LocalAdmin) -> None:
        if admin.id in self._ws.tables.admins or await self.get_by_email(admin.email):
            raise Conflict("an admin with this e-mail exists")
        self._ws.tables.admins[admin.id] = copy.deepcopy(admin)

    async def update(self, admin: LocalAdmin) -> None:
        if admin.id not in self._ws.tables.admins:
            raise NotFound("admin not found")
        self._ws.tables.admins[admin.id] = copy.deepcopy(admin)


class InMemoryAuditLogRepository:
    """Append-only: entries get the next `seq`; nothing changes or removes them."""

    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def append(self, entry: AuditEntry) -> None:
        log = self._ws.tables.audit
        log.append(replace(entry, seq=len(log) + 1, details=copy.deepcopy(entry.details)))

    async def page(
        self, limit: int, before: int | None = None, action: str | None = None,
        target_id: str | None = None,
    ) -> list[AuditEntry]:
        found = [
            entry for entry in reversed(self._ws.tables.audit)
            if (before is None or (entry.seq or 0) < before)
            and (action is None or entry.action == action)
            and (target_id is None or entry.target_id == target_id)
        ]
        return copy.deepcopy(found[:limit])
