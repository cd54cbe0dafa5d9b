import inspect
from typing import Any


async def resolve(provider: Any) -> Any:
    """A provider's value, awaiting it when it depends on an async resource."""
    value = provider()
    if inspect.isawaitable(value):
        value = await value
    return value
