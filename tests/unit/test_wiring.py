"""The composition roots: one infrastructure per process, started once, closed once; each
process starts only what its use cases need; a handler's dependency is checked by name."""

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import containers, providers
from litestar import Litestar, get
from litestar.exceptions import ImproperlyConfiguredException
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import create_engine
from adapters.sql.migrate import upgrade_database
from entrypoints.dev.app import _lifespan_of, create_dev_app
from entrypoints.edge_gateway.container import GatewayContainer
from entrypoints.wiring import resources
from entrypoints.wiring.di import Injected, ResolvedProviders
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.lifespan import running
from entrypoints.wiring.settings import Settings

LIFESPAN: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings.model_validate({
        "data_dir": tmp_path, "keystore": "memory", "redis_url": None,
        "jwks_url": "http://127.0.0.1:9/.well-known/jwks.json",  # nothing listens there
        "password_hash_memory_kib": 1024, "password_hash_time_cost": 1, **overrides})


class Greeter:
    def __call__(self) -> str:
        return "hello"


class Greeters(containers.DeclarativeContainer):
    greet = providers.Singleton(Greeter)


def test_a_handler_naming_no_provider_fails_when_the_app_is_built() -> None:
    @get("/hello")
    async def hello(greet: Injected[Greeter]) -> str:
        return greet()

    @get("/typo")
    async def typo(greeter: Injected[Greeter]) -> str:
        return greeter()

    dependencies = ResolvedProviders(Greeters()).dependencies()
    Litestar([hello], dependencies=dependencies)
    with pytest.raises(ImproperlyConfiguredException, match="greeter"):
        Litestar([typo], dependencies=dependencies)


async def test_the_gateway_starts_no_database_and_no_signing_keys(tmp_path: Path) -> None:
    infrastructure = Infrastructure(settings=settings_for(tmp_path))
    async with running(GatewayContainer(infrastructure=infrastructure)) as resolved:
        assert resolved.value("gateway") is not None
        started = {name for name, p in infrastructure.providers.items()
                   if isinstance(p, providers.Resource) and p.initialized}
        assert started == {"redis", "realtime_jwks", "metrics_server"}
    assert not infrastructure.realtime_jwks.initialized  # closed on the way out
    assert not list(tmp_path.iterdir())  # no database file, no key file, no queue


async def test_atelier_dev_starts_one_infrastructure_once_and_closes_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for(tmp_path, public_url="http://127.0.0.1:9",
                            worker_wait_seconds=0.1, outbox_poll_seconds=0.05)
    await upgrade_database(settings.sql_url)
    engines: list[AsyncEngine] = []

    def counting_create_engine(url: str) -> AsyncEngine:
        engines.append(create_engine(url))
        return engines[-1]

    monkeypatch.setattr(resources, "create_engine", counting_create_engine)
    infrastructure = Infrastructure(settings=settings)
    app = create_dev_app(settings, infrastructure)

    lifespan: AbstractAsyncContextManager[None] = _lifespan_of(app, LIFESPAN)
    async with lifespan:
        # mobile, admin, gateway and worker on one engine and one key ring
        assert len(engines) == 1 and infrastructure.engine.initialized
        assert infrastructure.keyring.initialized
    assert len(engines) == 1
    assert not infrastructure.engine.initialized and not infrastructure.keyring.initialized
