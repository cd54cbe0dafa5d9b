"""The web console as `atelier dev` mounts it: at `/`, beside the mobile and admin APIs on
one infrastructure and one loopback port; and a browser-like client that signs in."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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
from entrypoints.console.app import create_app as create_console_app
from entrypoints.console.container import ConsoleContainer
from entrypoints.dev.app import MOBILE_PATHS, PathDispatcher
from entrypoints.mobile_api.app import create_app as create_mobile_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.di import resolve
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from tests.support.server import serving
from tests.support.stack import CHEAP_HASHING

ADMIN_EMAIL, ADMIN_PASSWORD = "root@atelier.test", "admin-password-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@dataclass
class ConsoleStack:
    base_url: str
    client: httpx.AsyncClient
    settings: Settings
    infrastructure: Infrastructure
    console: ConsoleContainer
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def create_admin(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
        create = CreateLocalAdmin(
            await resolve(self.infrastructure.uow_factory), Argon2PasswordHasher(1, 1024), utcnow)
        made = await create(Acting(AdminIdentity("test", AdminSource.CLI)), email, password)
        return made.id

    def browser(self, **options: Any) -> httpx.AsyncClient:
        """A client of its own (its own cookies), closed with the stack."""
        client = httpx.AsyncClient(base_url=self.base_url, timeout=30, **options)
        self.clients.append(client)
        return client

    async def sign_in(
        self, client: httpx.AsyncClient | None = None, email: str = ADMIN_EMAIL,
        password: str = ADMIN_PASSWORD,
    ) -> httpx.Response:
        """Opens the sign-in page and sends the form, as a browser does; the answer is not
        followed."""
        client = client or self.client
        form = await client.get("/sign-in")
        assert form.status_code == 200, form.text
        return await client.post("/sign-in", data={
            "csrf_token": csrf_of(form.text), "email": email, "password": password,
            "next": "/"})

    async def signed_in(self, client: httpx.AsyncClient | None = None) -> str:
        """Signs the (first) admin in; answers the CSRF token of its session."""
        client = client or self.client
        response = await self.sign_in(client)
        assert response.status_code == 303, response.text
        page = await client.get("/")
        assert page.status_code == 200, page.text
        return csrf_of(page.text)


def console_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    return Settings.model_validate({
        "data_dir": data_dir, "database_url": database_url, "keystore": "file",
        "redis_url": None, **CHEAP_HASHING, **overrides})


@asynccontextmanager
async def running_console_stack(
    data_dir: Path, database_url: str, *, loopback_http_cookies: bool = True,
    **overrides: Any,
) -> AsyncIterator[ConsoleStack]:
    """The console at `/`, the admin API and the mobile API at theirs, one infrastructure
    (one in-memory bus), served by uvicorn on a loopback port."""
    settings = console_settings(data_dir, database_url, **overrides)
    shared = Infrastructure(settings=settings)
    mobile = create_mobile_app(MobileContainer(infrastructure=shared), shares_infrastructure=True)
    console = ConsoleContainer(infrastructure=shared)
    app = PathDispatcher(
        [(ADMIN_PREFIX, create_admin_app(AdminContainer(infrastructure=shared),
                                         shares_infrastructure=True)),
         *((prefix, mobile) for prefix in MOBILE_PATHS)],
        default=create_console_app(console, shares_infrastructure=True,
                                   loopback_http_cookies=loopback_http_cookies),
        infrastructure=shared)
    async with (
        serving(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        stack = ConsoleStack(base_url, client, settings, shared, console)
        try:
            yield stack
        finally:
            for other in stack.clients:
                await other.aclose()
