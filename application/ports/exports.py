"""Data exports in the unit of work."""

from typing import Protocol

from domain.exports.model import DataExport


class ExportRepository(Protocol):
    """Exports by id; adding one while the user has another queued or building raises
    ExportInProgress (held by the database under concurrent requests)."""

    async def add(self, export: DataExport) -> None: ...
    async def get(self, export_id: str) -> DataExport | None: ...
    async def update(self, export: DataExport) -> None: ...
    async def ids_for_user(self, user_id: str) -> list[str]:
        """Every export of the user, whatever its state (what a deleted account leaves)."""
        ...
