"""The admin API's repositories: local admin accounts and the append-only audit log."""

from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import affected_rows
from adapters.sql.tables import admin_accounts, audit_log
from domain.admins.model import AuditEntry, LocalAdmin
from domain.shared.errors import Conflict, NotFound


def _admin_row(admin: LocalAdmin) -> dict[str, Any]:
    return {"id": admin.id, "email": admin.email, "password_hash": admin.password_hash,
            "created_at": admin.created_at, "disabled": admin.disabled}


def _row_admin(row: RowMapping) -> LocalAdmin:
    return LocalAdmin(id=row["id"], email=row["email"], password_hash=row["password_hash"],
                      created_at=row["created_at"], disabled=row["disabled"])


def _row_entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        at=row["at"], actor=row["actor"], action=row["action"],
        target_type=row["target_type"], target_id=row["target_id"],
        source_ip=row["source_ip"], actor_email=row["actor_email"],
        details=dict(row["details"] or {}), seq=int(row["seq"]),
    )


class SqlAlchemyLocalAdminRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, admin_id: str) -> LocalAdmin | None:
        result = await self._session.execute(
            select(admin_accounts).where(admin_accounts.c.id == admin_id))
        row = result.mappings().first()
        return _row_admin(row) if row is not None else None

    async def get_by_email(self, email: str) -> LocalAdmin | None:
        result = await self._session.execute(
            select(admin_accounts).where(admin_accounts.c.email == email))
        row = result.mappings().first()
        return _row_admin(row) if row is not None else None

    async def add(self, admin: LocalAdmin) -> None:
        try:
            async with self._session.begin_nested():
                await self._session.execute(insert(admin_accounts).values(_admin_row(admin)))
        except IntegrityError as error:
            raise Conflict("an admin with this e-mail exists") from error

    async def update(self, admin: LocalAdmin) -> None:
        row = _admin_row(admin)
        del row["id"]
        changed = await affected_rows(
            self._session,
            update(admin_accounts).where(admin_accounts.c.id == admin.id).values(row))
        if changed == 0:
            raise NotFound("admin not found")


class SqlAlchemyAuditLogRepository:
    """INSERT and SELECT only; the database refuses UPDATE and DELETE (migration 0002)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, entry: AuditEntry) -> None:
        await self._session.execute(insert(audit_log).values(
            at=entry.at, actor=entry.actor, actor_email=entry.actor_email,
            action=entry.action, target_type=entry.target_type, target_id=entry.target_id,
            source_ip=entry.source_ip, details=entry.details))

    async def page(
        self, limit: int, before: int | None = None, action: str | None = None,
        target_id: str | None = None, actor: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
        if before is not None:
            query = query.where(audit_log.c.seq < before)
        if action is not None:
            query = query.where(audit_log.c.action == action)
        if target_id is not None:
            query = query.where(audit_log.c.target_id == target_id)
        if actor is not None:
            query = query.where(or_(audit_log.c.actor == actor, audit_log.c.actor_email == actor))
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if until is not None:
            query = query.where(audit_log.c.at < until)
        result = await self._session.execute(query)
        return [_row_entry(row) for row in result.mappings()]
