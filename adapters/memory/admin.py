"""In-memory local admins, audit log and console sessions (the contract of adapters/sql)."""

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from adapters.memory.workspace import Workspace
from domain.admins.console_session import ConsoleSession
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
        target_id: str | None = None, actor: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[AuditEntry]:
        found = [
            entry for entry in reversed(self._ws.tables.audit)
            if (before is None or (entry.seq or 0) < before)
            and (action is None or entry.action == action)
            and (target_id is None or entry.target_id == target_id)
            and (actor is None or actor in (entry.actor, entry.actor_email))
            and (since is None or entry.at >= since)
            and (until is None or entry.at < until)
        ]
        return copy.deepcopy(found[:limit])


class InMemoryConsoleSessionRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def add(self, session: ConsoleSession) -> None:
        table = self._ws.tables.console_sessions
        if session.id_sha256 in table:
            raise Conflict("this console session exists")
        table[session.id_sha256] = copy.deepcopy(session)

    async def get(self, id_sha256: str) -> ConsoleSession | None:
        return copy.deepcopy(self._ws.tables.console_sessions.get(id_sha256))

    async def touch(self, id_sha256: str, last_seen_at: datetime) -> None:
        session = self._ws.tables.console_sessions.get(id_sha256)
        if session is not None and session.last_seen_at < last_seen_at:
            session.last_seen_at = last_seen_at

    async def delete(self, id_sha256: str) -> bool:
        return self._ws.tables.console_sessions.pop(id_sha256, None) is not None

    async def delete_for_admin(self, subject: str) -> int:
        return self._delete_where(lambda s: s.admin.subject == subject)

    async def delete_expired(self, expired_before: datetime, idle_before: datetime) -> int:
        return self._delete_where(
            lambda s: s.expires_at <= expired_before or s.last_seen_at <= idle_before)

    def _delete_where(self, ends: Callable[[ConsoleSession], bool]) -> int:
        table = self._ws.tables.console_sessions
        gone = [key for key, session in table.items() if ends(session)]
        for key in gone:
            del table[key]
        return len(gone)
