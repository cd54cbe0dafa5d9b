import copy

from domain.keys.ring import KeyRing


class InMemoryKeyStore:
    """KeyStore for tests and single-process runs; hands out copies, like a real store."""

    def __init__(self, ring: KeyRing | None = None) -> None:
        self._ring = copy.deepcopy(ring) if ring is not None else KeyRing()

    async def load(self) -> KeyRing:
        return copy.deepcopy(self._ring)

    async def save(self, ring: KeyRing) -> None:
        self._ring = copy.deepcopy(ring)
