"""The mobile API built by its own composition root, on SQLite or PostgreSQL, over HTTP."""

import email
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.tables import images
from domain.shared.clock import utcnow
from domain.shared.ids import new_id
from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.di import resolve
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from tests.support.server import serving

CHEAP_HASHING = {"password_hash_memory_kib": 1024, "password_hash_time_cost": 1}


@dataclass
class Stack:
    base_url: str
    client: httpx.AsyncClient
    container: MobileContainer
    settings: Settings

    @property
    def infrastructure(self) -> Infrastructure:
        infrastructure: Infrastructure = self.container.infrastructure
        return infrastructure

    def mailbox(self) -> list[email.message.Message]:
        folder = self.settings.data_dir / "mailbox"
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]

    def confirmation_code(self, address: str) -> str:
        for message in reversed(self.mailbox()):
            if message["To"] == address:
                body = message.get_payload(decode=True)
                text = body.decode() if isinstance(body, bytes) else str(message.get_payload())
                found = re.search(r"\b(\d{6})\b", text)
                if found:
                    return found.group(1)
        raise AssertionError(f"no confirmation code mailed to {address}")

    async def engine(self) -> AsyncEngine:
        engine: AsyncEngine = await resolve(self.infrastructure.engine)
        return engine

    async def insert_image(self, user_id: str) -> str:
        """An image row as the image pipeline leaves it (here only ownership matters)."""
        image_id, now = new_id(), utcnow()
        async with (await self.engine()).begin() as connection:
            await connection.execute(insert(images).values(
                id=image_id, user_id=user_id, status="ready", prompt="a red fox",
                size="1024x1024", quality="low", object_key=f"images/{user_id}/{image_id}.png",
                created_at=now, updated_at=now))
        return image_id

    async def image_count(self, user_id: str) -> int:
        async with (await self.engine()).connect() as connection:
            found = await connection.scalar(
                select(func.count()).select_from(images).where(images.c.user_id == user_id))
        return int(found or 0)


@asynccontextmanager
async def running_stack(
    data_dir: Path, database_url: str, **overrides: Any
) -> AsyncIterator[Stack]:
    values: dict[str, Any] = {
        "data_dir": data_dir, "database_url": database_url, "keystore": "memory",
        "redis_url": None, **CHEAP_HASHING, **overrides,
    }
    settings = Settings.model_validate(values)
    container = MobileContainer(infrastructure=Infrastructure(settings=settings))
    async with (
        serving(create_app(container)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        yield Stack(base_url, client, container, settings)

