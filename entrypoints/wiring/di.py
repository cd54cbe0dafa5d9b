"""From a container to litestar: each provider's value, resolved once when the app starts,
handed to the handlers that name it (one `Provide` per provider)."""

import inspect
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from dependency_injector import containers, providers
from litestar.di import Dependency, Provide
from litestar.params import SkipValidationMarker

T = TypeVar("T")

Injected = Annotated[T, Dependency(kind="named"), SkipValidationMarker()]
"""A handler parameter filled from the container by its name (`login: Injected[Login]`);
a name no provider has fails when the app is built, not at the first request."""

# Sub-containers are resolved through the providers that use them; a Factory makes a new
# object per call, so it is called where it is used.
NOT_RESOLVED_AT_START = (providers.DependenciesContainer, providers.Container, providers.Factory)


async def resolve(provider: Any) -> Any:
    """A provider's value, awaiting it when it depends on an async resource."""
    value = provider()
    if inspect.isawaitable(value):
        value = await value
    return value


class ResolvedProviders:
    """The values of a container's own providers, resolved when the app starts (so a
    broken adapter fails the start, not a request) and read by the handlers."""

    def __init__(
        self, container: containers.Container, only: Iterable[str] | None = None
    ) -> None:
        """`only`: these providers and what they use (a one-off command), not every one."""
        self._container = container
        self._only = None if only is None else list(only)
        self._values: dict[str, Any] = {}

    def names(self) -> list[str]:
        if self._only is not None:
            return self._only
        return [name for name, provider in self._container.providers.items()
                if not isinstance(provider, NOT_RESOLVED_AT_START)]

    async def start(self) -> None:
        for name in self.names():
            self._values[name] = await resolve(self._container.providers[name])

    def value(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise RuntimeError(f"{name} is used before the app started") from None

    def getter(self, name: str) -> Callable[[], Any]:
        def provide() -> Any:
            return self.value(name)

        provide.__name__ = f"provide_{name}"
        return provide

    def dependencies(self) -> dict[str, Provide]:
        return {name: Provide(self.getter(name), sync_to_thread=False) for name in self.names()}
