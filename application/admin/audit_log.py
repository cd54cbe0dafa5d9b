from dataclasses import dataclass
from datetime import datetime

from application.ports.unit_of_work import UnitOfWorkFactory
from domain.admins.model import AuditEntry


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next: int | None


class ListAuditLog:
    """The audit log, newest first, a page at a time."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(
        self, limit: int, before: int | None = None, action: str | None = None,
        target_id: str | None = None, actor: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> AuditPage:
        async with self._uow_factory() as uow:
            found = await uow.audit.page(
                limit + 1, before, action, target_id, actor, since, until)
        page = found[:limit]
        more = len(found) > limit and page
        return AuditPage(page, page[-1].seq if more else None)
