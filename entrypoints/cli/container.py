"""The operator commands' composition root: their use cases, on the shared infrastructure."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dependency_injector import containers, providers

from application.admin.local_admins import CreateLocalAdmin
from application.guests.purge_guests import PurgeGuests
from application.images.redrive_jobs import ListJobs, RedriveJobs
from application.keys.manage_keys import ListKeys, RevokeAndReplace, RevokeKey
from application.maintenance.retention import RunRetention
from entrypoints.wiring.di import ResolvedProviders
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.lifespan import running
from entrypoints.wiring.settings import Settings


class CliContainer(containers.DeclarativeContainer):
    infrastructure = providers.DependenciesContainer()
    uow_factory, clock = infrastructure.uow_factory, infrastructure.clock

    rotate_keys = infrastructure.rotate_keys
    list_keys = providers.Singleton(ListKeys, infrastructure.key_store)
    # With Redis, every gateway hears of the revocation at once and closes its sockets.
    revoke_key = providers.Singleton(
        RevokeAndReplace,
        providers.Singleton(RevokeKey, infrastructure.key_store, clock, infrastructure.bus),
        rotate_keys)
    purge_guests = providers.Singleton(
        PurgeGuests, uow_factory, infrastructure.object_store, infrastructure.policy, clock)
    run_retention = providers.Singleton(RunRetention, infrastructure.retention_store, clock)
    list_jobs = providers.Singleton(ListJobs, uow_factory)
    redrive_jobs = providers.Singleton(RedriveJobs, uow_factory, infrastructure.job_queue, clock)
    create_local_admin = providers.Singleton(
        CreateLocalAdmin, uow_factory, infrastructure.password_hasher, clock)


@asynccontextmanager
async def use_case(settings: Settings, name: str) -> AsyncIterator[Any]:
    """One command's use case, with only what it needs started, closed when it is done."""
    container = CliContainer(infrastructure=Infrastructure(settings=settings))
    async with running(container, ResolvedProviders(container, only=[name])) as resolved:
        yield resolved.value(name)
