"""What a store answers besides its data: that it cannot be reached, or cannot hold a value.
Adapters raise these in place of their driver's errors, so the edge maps them without
knowing which database is behind the port."""

from typing import Protocol

from domain.shared.errors import InvalidInput


class StorageUnavailable(Exception):
    """The store cannot be reached right now (down, restarting, out of connections):
    nothing was stored, and the same request may be retried shortly."""


class UnstorableText(InvalidInput):
    """The request contains characters that cannot be stored (such as NUL)."""

    code = "invalid_characters"


class StorageProbe(Protocol):
    async def probe(self) -> None:
        """Returns once the store answers a trivial request; raises (StorageUnavailable, or
        the client's own error) when it does not."""
        ...
