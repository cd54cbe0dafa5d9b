"""The mobile API and the admin API side by side, as `atelier dev` mounts them (one port,
routed by path, one in-memory bus) or as separate processes would run them (a Redis bus)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapters.crypto.argon2_hasher import Argon2PasswordHasher
from application.admin.acting import Acting
from application.admin.local_admins import CreateLocalAdmin
from domain.admins.model import AdminIdentity, AdminSource
from domain.shared.clock import utcnow
from entrypoints.admin_api.app import ADMIN_PREFIX
from entrypoints.admin_api.app import create_app as create_admin_app
from entrypoints.admin_api.container import AdminContainer
from entrypoints.dev.app import PathDispatcher
from entrypoints.mobile_api.app import create_app as create_mobile_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.di import resolve
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from tests.support.server import serving
from tests.support.stack import CHEAP_HASHING

ADMIN = ADMIN_PREFIX
ADMIN_EMAIL, ADMIN_PASSWORD = "root@atelier.test", "admin-password-1"


@dataclass
class AdminStack:
    base_url: str
    client: httpx.AsyncClient
    settings: Settings
    mobile: MobileContainer
    admin: AdminContainer

    async def create_admin(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
        create = CreateLocalAdmin(
            await resolve(self.admin.uow_factory), Argon2PasswordHasher(1, 1024), utcnow)
        made = await create(Acting(AdminIdentity("test", AdminSource.CLI)), email, password)
        return made.id

    async def admin_token(
        self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
    ) -> dict[str, str]:
        response = await self.client.post(f"{ADMIN}/sessions", json={
            "email": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    async def logged_in_admin(self) -> dict[str, str]:
        await self.create_admin()
        return await self.admin_token()


def settings_for(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    return Settings.model_validate({
        "data_dir": data_dir, "database_url": database_url, "keystore": "file",
        "redis_url": None, **CHEAP_HASHING, **overrides})


@asynccontextmanager
async def running_admin_stack(
    data_dir: Path, database_url: str, **overrides: Any
) -> AsyncIterator[AdminStack]:
    """Both apps on one loopback port. Without a Redis URL they share one infrastructure
    (one in-memory bus), as in `atelier dev`; with one, each has its own and talks to Redis
    as separate processes would."""
    settings = settings_for(data_dir, database_url, **overrides)
    if settings.redis_url:
        mobile = MobileContainer(infrastructure=Infrastructure(settings=settings))
        admin = AdminContainer(infrastructure=Infrastructure(settings=settings))
        app = PathDispatcher([(ADMIN_PREFIX, create_admin_app(admin))],
                             default=create_mobile_app(mobile))
    else:
        shared = Infrastructure(settings=settings)
        mobile = MobileContainer(infrastructure=shared)
        admin = AdminContainer(infrastructure=shared)
        app = PathDispatcher(
            [(ADMIN_PREFIX, create_admin_app(admin, shares_infrastructure=True))],
            default=create_mobile_app(mobile, shares_infrastructure=True), infrastructure=shared)
    async with (
        serving(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        yield AdminStack(base_url, client, settings, mobile, admin)
