from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class RevocableToken:
    """An Apple refresh or access token of this app, as the revocation endpoint takes it."""

    value: str
    hint: Literal["refresh_token", "access_token"]


class AppleTokens(Protocol):
    """Sign in with Apple's REST API for this app's own tokens: what account deletion needs
    to revoke the app's authorization at Apple."""

    @property
    def enabled(self) -> bool:
        """False when no team, key id and private key are configured: nothing is revoked."""
        ...

    async def redeem(self, code: str) -> RevocableToken | None:
        """Exchanges an authorization code (single use, five minutes) for a token to revoke;
        None when Apple refuses the code. Raises when Apple cannot be reached."""
        ...

    async def revoke(self, token: RevocableToken) -> None:
        """Revokes the token and the user's authorization of the app (a revoked one again
        is fine). Raises when Apple cannot be reached or refuses the client."""
        ...
