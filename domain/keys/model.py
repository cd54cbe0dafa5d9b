"""Ed25519 signing keys: next -> active -> retiring -> retired, or revoked from any state."""

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.shared.errors import Conflict, NotFound


class KeyState(StrEnum):
    NEXT = "next"
    ACTIVE = "active"
    RETIRING = "retiring"
    RETIRED = "retired"
    REVOKED = "revoked"


PUBLISHED = frozenset({KeyState.NEXT, KeyState.ACTIVE, KeyState.RETIRING})


class InvalidKeyTransition(Conflict):
    """That key cannot move to that state now."""

    code = "invalid_key_transition"


class UnknownKey(NotFound):
    """No such signing key."""

    code = "unknown_key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(public_key: bytes) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key (RFC 8037 section 2)."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(public_key)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass
class SigningKey:
    kid: str
    public_key: bytes
    private_key: bytes
    state: KeyState
    created_at: datetime
    activated_at: datetime | None = None
    retiring_at: datetime | None = None
    retired_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def new(cls, public_key: bytes, private_key: bytes, now: datetime) -> "SigningKey":
        return cls(thumbprint(public_key), public_key, private_key, KeyState.NEXT, now)

    @property
    def published(self) -> bool:
        return self.state in PUBLISHED

    def jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP", "crv": "Ed25519", "x": b64url(self.public_key),
            "kid": self.kid, "use": "sig", "alg": "EdDSA",
        }

    def _require(self, state: KeyState, target: KeyState) -> None:
        if self.state is not state:
            raise InvalidKeyTransition(
                f"only a {state} key can become {target}; {self.kid} is {self.state}")

    def activate(self, now: datetime) -> None:
        self._require(KeyState.NEXT, KeyState.ACTIVE)
        self.state, self.activated_at = KeyState.ACTIVE, now

    def retire_signing(self, now: datetime) -> None:
        self._require(KeyState.ACTIVE, KeyState.RETIRING)
        self.state, self.retiring_at = KeyState.RETIRING, now

    def unpublish(self, now: datetime) -> None:
        self._require(KeyState.RETIRING, KeyState.RETIRED)
        self.state, self.retired_at = KeyState.RETIRED, now

    def revoke(self, now: datetime) -> None:
        if self.state is KeyState.REVOKED:
            return
        self.state, self.revoked_at = KeyState.REVOKED, now


@dataclass(frozen=True)
class RotationPolicy:
    """Timing rules: JWKS caches never miss a key that signs, nor lose one a live token needs."""

    jwks_max_age: timedelta = timedelta(minutes=5)
    margin: timedelta = timedelta(minutes=5)
    longest_token_lifetime: timedelta = timedelta(hours=1)
    leeway: timedelta = timedelta(seconds=60)
    rotate_every: timedelta = timedelta(days=7)

    @property
    def publish_before_signing(self) -> timedelta:
        return self.jwks_max_age + self.margin

    @property
    def publish_after_signing(self) -> timedelta:
        return self.longest_token_lifetime + self.leeway + self.jwks_max_age
