import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.ports.tokens import KeyStore
from domain.keys.model import SigningKey
from domain.keys.ring import KeyRing

log = logging.getLogger("atelier.keys")


class KeyRingCache:
    """The origin's view of its signing keys: loaded from the KeyStore at start and every
    `refresh_seconds`, so a rotation or revocation made elsewhere is picked up."""

    def __init__(self, store: KeyStore, refresh_seconds: float) -> None:
        self._store = store
        self._refresh = refresh_seconds
        self._ring = KeyRing()
        self._public: dict[str, Ed25519PublicKey] = {}

    async def reload(self) -> None:
        ring = await self._store.load()
        self._public = {
            k.kid: self._public.get(k.kid) or Ed25519PublicKey.from_public_bytes(k.public_key)
            for k in ring.published
        }
        self._ring = ring

    def active(self) -> SigningKey | None:
        return self._ring.active

    def published(self) -> list[SigningKey]:
        return self._ring.published

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        return self._public.get(kid)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["KeyRingCache"]:
        await self.reload()
        task = asyncio.create_task(self._refresh_forever())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh)
            try:
                await self.reload()
            except Exception:
                log.exception("could not reload signing keys; keeping the last ones")
