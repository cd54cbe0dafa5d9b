import copy

from adapters.memory.workspace import Workspace
from application.ports.exports import ExportRepository
from domain.exports.model import DataExport, ExportInProgress


class InMemoryExportRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def add(self, export: DataExport) -> None:
        table = self._ws.tables.exports
        if any(e.user_id == export.user_id and e.active for e in table.values()):
            raise ExportInProgress()
        table[export.id] = copy.deepcopy(export)

    async def get(self, export_id: str) -> DataExport | None:
        return copy.deepcopy(self._ws.tables.exports.get(export_id))

    async def update(self, export: DataExport) -> None:
        if export.id in self._ws.tables.exports:
            self._ws.tables.exports[export.id] = copy.deepcopy(export)

    async def ids_for_user(self, user_id: str) -> list[str]:
        return [e.id for e in self._ws.tables.exports.values() if e.user_id == user_id]


_satisfies_port: type[ExportRepository] = InMemoryExportRepository
