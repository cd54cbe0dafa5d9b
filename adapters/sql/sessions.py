from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

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
    """Refresh families; every hash a family ever issued lives in refresh_tokens."""

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
            await self._record_hashes(family, known=set())

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
        known = await self._session.scalars(
            select(tokens.c.hash).where(tokens.c.family_id == family.id))
        with integrity_errors_as_conflicts():
            await self._record_hashes(family, known=set(known))

    async def live_for_user(self, user_id: str, now: datetime) -> list[RefreshFamily]:
        return await self._load(
            families.c.user_id == user_id,
            families.c.revoked_at.is_(None),
            families.c.expires_at > now,
        )

    async def _load(self, *where: ColumnElement[bool]) -> list[RefreshFamily]:
        result = await self._session.execute(
            select(families).where(*where).order_by(families.c.created_at, families.c.id))
        rows = list(result.mappings())
        if not rows:
            return []
        issued = await self._issued_hashes(row["id"] for row in rows)
        return [row_to_family(row, issued[row["id"]]) for row in rows]

    async def _issued_hashes(self, family_ids: Iterable[str]) -> dict[str, list[str]]:
        result = await self._session.execute(
            select(tokens.c.family_id, tokens.c.hash)
            .where(tokens.c.family_id.in_(list(family_ids)))
            .order_by(tokens.c.generation, tokens.c.issued_at)
        )
        issued: dict[str, list[str]] = defaultdict(list)
        for family_id, digest in result:
            issued[family_id].append(digest)
        return issued

    async def _record_hashes(self, family: RefreshFamily, known: set[str]) -> None:
        hashes = list(family.issued_hashes)
        for digest in (family.previous_hash, family.current_hash):
            if digest is not None and digest not in hashes:
                hashes.append(digest)
        new_rows: list[dict[str, Any]] = []
        for position, digest in enumerate(hashes):
            if digest in known:
                continue
            known.add(digest)
            issued_at = family.rotated_at if digest == family.current_hash else None
            new_rows.append({
                "hash": digest, "family_id": family.id,
                "generation": position if digest != family.current_hash else family.generation,
                "issued_at": issued_at or family.created_at,
            })
        if new_rows:
            await self._session.execute(insert(tokens), new_rows)


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
