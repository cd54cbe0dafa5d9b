from datetime import datetime

from application.ports.clock import Clock
from application.ports.messaging import RealtimeBus
from application.ports.tokens import KeyGenerator, KeyStore
from domain.keys.model import RotationPolicy, SigningKey

KEYS_CHANNEL = "internal:keys"


class RotateKeys:
    """Moves the signing keys as far as the timing rules allow; safe to run on a schedule."""

    def __init__(
        self, store: KeyStore, generate: KeyGenerator, policy: RotationPolicy, clock: Clock
    ) -> None:
        self._store, self._generate, self._policy, self._clock = store, generate, policy, clock

    def _make_key(self, now: datetime) -> SigningKey:
        public, private = self._generate()
        return SigningKey.new(public, private, now)

    async def __call__(self) -> list[str]:
        ring = await self._store.load()
        moves = ring.rotate(self._clock(), self._policy, self._make_key)
        if moves:
            await self._store.save(ring)
        return moves


class ListKeys:
    """Every key with its state and timestamps (private halves never leave the store)."""

    def __init__(self, store: KeyStore) -> None:
        self._store = store

    async def __call__(self) -> list[SigningKey]:
        return (await self._store.load()).keys


class RevokeKey:
    """Emergency exit: the key stops signing and verifying at once, and every node is told
    (`key.revoked` on KEYS_CHANNEL): gateways close the sockets it opened. The bus is
    required: a revocation that stays in one process leaves leaked tokens working."""

    def __init__(self, store: KeyStore, clock: Clock, bus: RealtimeBus) -> None:
        self._store, self._clock, self._bus = store, clock, bus

    async def __call__(self, kid: str) -> SigningKey:
        ring = await self._store.load()
        key = ring.revoke(kid, self._clock())
        await self._store.save(ring)
        await self._bus.publish(KEYS_CHANNEL, {"type": "key.revoked", "kid": key.kid})
        return key


class RevokeAndReplace:
    """`atelier keys revoke`: the revocation, then as far a rotation as the timing allows,
    so a revoked signing key is replaced at once and tokens keep being issued."""

    def __init__(self, revoke: RevokeKey, rotate: RotateKeys) -> None:
        self._revoke, self._rotate = revoke, rotate

    async def __call__(self, kid: str) -> tuple[SigningKey, list[str]]:
        key = await self._revoke(kid)
        return key, await self._rotate()
