import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.ports.tokens import KeyStore
from domain.keys.model import KeyState, SigningKey
from domain.keys.ring import KeyRing

log = logging.getLogger("atelier.keys")

NO_ACTIVE_KEY_RETRY = (0.1, 0.2, 0.4, 0.8, 1.6)  # then every `refresh_seconds`
OnRevoked = Callable[[str], Awaitable[None]]


class KeyRingCache:
    """The origin's view of its signing keys: loaded from the KeyStore at start and every
    `refresh_seconds`, so a rotation or revocation made elsewhere is picked up.

    `revoke(kid)` (a `key.revoked` message from the bus) drops a key at once and reloads;
    a kid revoked here is never trusted again, whatever a stale read of the store says.
    A reload that finds a key revoked that this node had not heard of calls `on_revoked`,
    so that a node which missed the message re-announces it."""

    def __init__(
        self, store: KeyStore, refresh_seconds: float, on_revoked: OnRevoked | None = None
    ) -> None:
        self._store = store
        self._refresh = refresh_seconds
        self._on_revoked = on_revoked
        self._ring = KeyRing()
        self._public: dict[str, Ed25519PublicKey] = {}
        self._revoked: set[str] = set()
        self._wake = asyncio.Event()

    async def reload(self) -> None:
        ring = await self._store.load()
        newly_revoked = [
            k.kid for k in ring.in_state(KeyState.REVOKED)
            if k.kid in self._public and k.kid not in self._revoked]
        self._revoked.update(k.kid for k in ring.in_state(KeyState.REVOKED))
        self._public = {
            k.kid: self._public.get(k.kid) or Ed25519PublicKey.from_public_bytes(k.public_key)
            for k in ring.published if k.kid not in self._revoked
        }
        self._ring = ring
        for kid in newly_revoked:
            log.warning("signing key found revoked on reload", extra={"fields": {"kid": kid}})
            if self._on_revoked is not None:
                try:
                    await self._on_revoked(kid)
                except Exception:
                    log.exception("could not re-announce a revoked key")

    async def revoke(self, kid: str) -> None:
        """Stops trusting `kid` now, then reloads to pick up the key that replaced it."""
        self._revoked.add(kid)
        self._public.pop(kid, None)
        try:
            await self.reload()
        except Exception:
            log.exception("could not reload signing keys after a revocation")
        self._wake.set()

    def active(self) -> SigningKey | None:
        active = self._ring.active
        return None if active is None or active.kid in self._revoked else active

    def published(self) -> list[SigningKey]:
        return [k for k in self._ring.published if k.kid not in self._revoked]

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
        misses = 0
        while True:
            # Without an active key (its replacement not saved yet) signing fails: look
            # again soon rather than in `refresh_seconds`.
            if self.active() is not None:
                misses, pause = 0, self._refresh
            else:
                pause = (NO_ACTIVE_KEY_RETRY[misses] if misses < len(NO_ACTIVE_KEY_RETRY)
                         else self._refresh)
                misses += 1
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(pause, self._refresh)):
                    await self._wake.wait()
            try:
                await self.reload()
            except Exception:
                log.exception("could not reload signing keys; keeping the last ones")
