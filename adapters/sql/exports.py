import dataclasses

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.tables import exports
from application.ports.exports import ExportRepository
from domain.exports.model import DataExport, ExportInProgress, ExportStatus


def _row_export(row: RowMapping) -> DataExport:
    return DataExport(
        id=row["id"], user_id=row["user_id"], status=ExportStatus(row["status"]),
        created_at=row["created_at"], completed_at=row["completed_at"],
        expires_at=row["expires_at"], object_key=row["object_key"])


class SqlAlchemyExportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, export: DataExport) -> None:
        # The partial unique index on (user_id) WHERE queued or building decides a race.
        try:
            async with self._session.begin_nested():
                await self._session.execute(insert(exports).values(dataclasses.asdict(export)))
        except IntegrityError as error:
            raise ExportInProgress() from error

    async def get(self, export_id: str) -> DataExport | None:
        result = await self._session.execute(select(exports).where(exports.c.id == export_id))
        row = result.mappings().first()
        return _row_export(row) if row is not None else None

    async def update(self, export: DataExport) -> None:
        values = dataclasses.asdict(export)
        del values["id"], values["user_id"], values["created_at"]
        await self._session.execute(
            update(exports).where(exports.c.id == export.id).values(values))

    async def ids_for_user(self, user_id: str) -> list[str]:
        result = await self._session.execute(
            select(exports.c.id).where(exports.c.user_id == user_id))
        return [str(found) for found in result.scalars()]


_satisfies_port: type[ExportRepository] = SqlAlchemyExportRepository
