from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.keys.model import KeyState, RotationPolicy, SigningKey, UnknownKey

KeyFactory = Callable[[datetime], SigningKey]


@dataclass
class KeyRing:
    """Every signing key the issuer has ever had, and the rules that move them."""

    keys: list[SigningKey] = field(default_factory=list)

    def in_state(self, state: KeyState) -> list[SigningKey]:
        return [k for k in self.keys if k.state is state]

    @property
    def active(self) -> SigningKey | None:
        found = self.in_state(KeyState.ACTIVE)
        return found[0] if found else None

    @property
    def published(self) -> list[SigningKey]:
        return [k for k in self.keys if k.published]

    def get(self, kid: str) -> SigningKey:
        for key in self.keys:
            if key.kid == kid:
                return key
        raise UnknownKey(f"no key {kid}")

    def rotate(self, now: datetime, policy: RotationPolicy, make_key: KeyFactory) -> list[str]:
        """Advance every key as far as the timing allows; idempotent; returns what moved.

        A staged `next` key is always kept, so that the following rotation is ready.
        """
        moves: list[str] = []
        for key in self.in_state(KeyState.RETIRING):
            assert key.retiring_at is not None
            if now - key.retiring_at >= policy.publish_after_signing:
                key.unpublish(now)
                moves.append(f"retired {key.kid}")
        candidate = self._oldest_next() or self._stage(make_key, now, moves)
        active = self.active
        if active is None:
            # A fresh issuer, or the active key was revoked: signing must not stop. Verifiers
            # that miss this kid refetch the JWKS on the unknown kid.
            candidate.activate(now)
            moves.append(f"activated {candidate.kid}")
        elif (
            active.activated_at is not None
            and now - active.activated_at >= policy.rotate_every
            and now - candidate.created_at >= policy.publish_before_signing
        ):
            active.retire_signing(now)
            candidate.activate(now)
            moves += [f"retiring {active.kid}", f"activated {candidate.kid}"]
        if self._oldest_next() is None:
            self._stage(make_key, now, moves)
        return moves

    def _oldest_next(self) -> SigningKey | None:
        nexts = self.in_state(KeyState.NEXT)
        return min(nexts, key=lambda k: k.created_at) if nexts else None

    def _stage(self, make_key: KeyFactory, now: datetime, moves: list[str]) -> SigningKey:
        key = make_key(now)
        self.keys.append(key)
        moves.append(f"staged {key.kid}")
        return key

    def revoke(self, kid: str, now: datetime) -> SigningKey:
        """Emergency: the key stops signing and verifying at once."""
        key = self.get(kid)
        key.revoke(now)
        return key
