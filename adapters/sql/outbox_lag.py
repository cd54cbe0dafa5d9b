"""How far the outbox relay is behind: the oldest message not yet delivered."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.tables import outbox


async def oldest_undelivered(engine: AsyncEngine) -> datetime | None:
    """`created_at` of the oldest undelivered outbox row (its partial index answers)."""
    async with engine.connect() as connection:
        found: datetime | None = await connection.scalar(
            select(func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None)))
    return found
