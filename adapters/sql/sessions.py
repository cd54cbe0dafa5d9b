from datetime import datetime

from sqlalchemy import ColumnElement, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import affected_rows, integrity_errors_as_conflicts
from adapters.sql.mappers import (
    family_to_row,
    row_to_family,
    row_to_transfer_code,
    transfer_code_to_row,
)
from adapters.sql.tables import refresh_families, refresh_tokens, transfer_codes
from domain.sessions.model import RefreshFamily
from domain.shared.errors import ConcurrentUpdate, NotFound
from domain.transfers.model import TransferCode

families, tokens = refresh_families, refresh_tokens


class SqlAlchemySessionRepository:
    """Refresh families. refresh_tokens holds the hashes tokens of the first format were
    issued with (read only: reuse detection for them until their families expire)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, family_id: str) -> RefreshFamily | None:
        found = await self._load(families.c.id == family_id)
        return found[0] if found else None

    async def get_by_token_hash(self, token_hash: str) -> RefreshFamily | None:
        owner = select(tokens.c.family_id).where(tokens.c.hash == token_hash)
        found = await self._load(families.c.id.in_(owner))
        return found[0] if found else None

    async def add(self, family: RefreshFamily) -> None:
        with integrity_errors_as_conflicts():
            await self._session.execute(insert(families).values(family_to_row(family)))

    async def update(self, family: RefreshFamily, expected_generation: int) -> None:
        row = family_to_row(family)
        for immutable in ("id", "user_id", "device_id", "created_at"):
            del row[immutable]
        revoked_at, reason = row.pop("revoked_at"), row.pop("revoked_reason")
        if revoked_at is not None:
            # Sticky: the first revocation (and its reason) wins over any later write.
            not_revoked = families.c.revoked_at.is_(None)
            row["revoked_at"] = func.coalesce(families.c.revoked_at, revoked_at)
            row["revoked_reason"] = case((not_revoked, reason), else_=families.c.revoked_reason)
        changed = await affected_rows(
            self._session,
            update(families)
            .where(families.c.id == family.id, families.c.generation == expected_generation)
            .values(row),
        )
        if changed == 0:
            raise ConcurrentUpdate()

    async def live_for_user(self, user_id: str, now: datetime) -> list[RefreshFamily]:
        return await self._load(
            families.c.user_id == user_id,
            families.c.revoked_at.is_(None),
            families.c.expires_at > now,
        )

    async def _load(self, *where: ColumnElement[bool]) -> list[RefreshFamily]:
        result = await self._session.execute(
            select(families).where(*where).order_by(families.c.created_at, families.c.id))
        return [row_to_family(row) for row in result.mappings()]


class SqlAlchemyTransferCodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, code_hash: str) -> TransferCode | None:
        result = await self._session.execute(
            select(transfer_codes).where(transfer_codes.c.hash == code_hash))
        row = result.mappings().first()
        return row_to_transfer_code(row) if row is not None else None

    async def live_for_user(self, user_id: str, now: datetime) -> list[TransferCode]:
        result = await self._session.execute(
            select(transfer_codes)
            .where(
                transfer_codes.c.user_id == user_id,
                transfer_codes.c.used_at.is_(None),
                transfer_codes.c.voided_at.is_(None),
                transfer_codes.c.expires_at > now,
            )
            .order_by(transfer_codes.c.created_at, transfer_codes.c.hash)
        )
        return [row_to_transfer_code(row) for row in result.mappings()]

    async def add(self, code: TransferCode) -> None:
        with integrity_errors_as_conflicts():
            await self._session.execute(insert(transfer_codes).values(transfer_code_to_row(code)))

    async def update(self, code: TransferCode) -> None:
        row = transfer_code_to_row(code)
        changed = await affected_rows(
            self._session,
            update(transfer_codes).where(transfer_codes.c.hash == code.code_hash).values(row),
        )
        if changed == 0:
            raise NotFound("transfer code not found")

    async def use(self, code_hash: str, now: datetime) -> TransferCode | None:
        # On PostgreSQL a racing UPDATE waits for the winner's row lock, then re-checks
        # `used_at IS NULL` on the committed row and matches nothing.
        result = await self._session.execute(
            update(transfer_codes)
            .where(
                transfer_codes.c.hash == code_hash,
                transfer_codes.c.used_at.is_(None),
                transfer_codes.c.voided_at.is_(None),
                transfer_codes.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(*transfer_codes.c)
        )
        row = result.mappings().first()
        return row_to_transfer_code(row) if row is not None else None

    async def void_open_for_user(self, user_id: str, now: datetime) -> None:
        await self._session.execute(
            update(transfer_codes)
            .where(
                transfer_codes.c.user_id == user_id,
                transfer_codes.c.used_at.is_(None),
                transfer_codes.c.voided_at.is_(None),
            )
            .values(voided_at=now)
        )
