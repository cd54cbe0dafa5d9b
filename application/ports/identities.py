"""Linked Apple and Google sign-ins, and the verification of their ID tokens."""

from datetime import datetime
from typing import Protocol

from domain.users.identities import LinkedIdentity, Provider, ProviderClaims


class IdentityRepository(Protocol):
    """Identities by (provider, subject); adding a pair that exists raises Conflict."""

    async def get(self, provider: Provider, subject: str) -> LinkedIdentity | None: ...
    async def for_user(self, user_id: str) -> list[LinkedIdentity]: ...
    async def add(self, identity: LinkedIdentity) -> None: ...
    async def delete(self, user_id: str, provider: Provider) -> None: ...


class IdTokenUseRepository(Protocol):
    """The device each accepted ID token was first used from, until the token expires."""

    async def bind(
        self, provider: Provider, digest: str, device_id: str, expires_at: datetime
    ) -> str:
        """Records `device_id` as the token's device unless one is already (atomically,
        under concurrency); returns the token's device, this one or the earlier."""
        ...


class IdTokenVerifier(Protocol):
    """Checks a provider's ID token (signature, issuer, audience, times, nonce)."""

    async def verify(
        self, provider: Provider, id_token: str, nonce: str | None
    ) -> ProviderClaims:
        """The token's claims, or InvalidIdToken; ProviderDisabled if not configured."""
        ...
