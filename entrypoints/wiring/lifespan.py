"""The life of a composition root, the same for every app, the worker and `atelier dev`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dependency_injector import containers

from entrypoints.wiring.di import ResolvedProviders


@asynccontextmanager
async def running(
    container: containers.Container, resolved: ResolvedProviders | None = None, *,
    shares_infrastructure: bool = False,
) -> AsyncIterator[ResolvedProviders]:
    """Checks that nothing is left unwired, resolves the container's providers (which starts
    the resources they use), yields them, and at exit closes every resource started, once,
    in dependency order. An entrypoint mounted beside others on a shared infrastructure
    (`shares_infrastructure`) leaves the closing to whoever built it."""
    container.check_dependencies()
    started = resolved or ResolvedProviders(container)
    try:
        await started.start()
        yield started
    finally:
        if not shares_infrastructure:
            closing = container.shutdown_resources()
            if closing is not None:
                await closing
