from typing import Any, Protocol

from domain.keys.ring import KeyRing
from domain.shared.errors import Unauthorized


class InvalidAccessToken(Unauthorized):
    """The access token is missing, malformed, expired or not ours."""

    code = "invalid_token"


class SigningUnavailable(Exception):
    """No signing key is active on this node right now (a revoked key's replacement not
    loaded yet, or none made): nothing was signed, and the request may be retried shortly."""


class TokenSigner(Protocol):
    """Signs JWT claims with the active Ed25519 key (EdDSA); raises SigningUnavailable when
    no key is active."""

    def sign(self, claims: dict[str, Any], typ: str) -> str: ...


class AccessTokenVerifier(Protocol):
    """Checks an access token's signature, type, audience, issuer and lifetime."""

    def verify(self, token: str) -> dict[str, Any]:
        """Returns the claims, or raises InvalidAccessToken."""
        ...

    def key_still_trusted(self, token: str) -> bool:
        """For a token verified earlier: False once the key that signed it is revoked."""
        ...


class KeyStore(Protocol):
    """Where the signing keys, private halves included, are kept."""

    async def load(self) -> KeyRing: ...

    async def save(self, ring: KeyRing) -> None: ...


class KeyGenerator(Protocol):
    def __call__(self) -> tuple[bytes, bytes]:
        """A new Ed25519 key pair as raw (public, private) bytes."""
        ...
