import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.auth.policy import AuthPolicy
from application.ports.tokens import TokenSigner
from domain.sessions.model import RefreshFamily
from domain.sessions.tokens import RefreshTokenSeal, SealedToken
from domain.users.model import User


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class Authenticated:
    user: User
    tokens: TokenSet


class TokenFactory:
    """Builds the claims of every token the origin issues and has them signed."""

    def __init__(self, signer: TokenSigner, policy: AuthPolicy, seal: RefreshTokenSeal) -> None:
        self._signer = signer
        self._policy = policy
        self._seal = seal

    def _base(self, subject: str, audience: str, now: datetime, ttl_seconds: int) -> dict[str, Any]:
        issued = int(now.timestamp())
        return {
            "iss": self._policy.issuer, "sub": subject, "aud": audience,
            "iat": issued, "exp": issued + ttl_seconds, "jti": secrets.token_urlsafe(12),
        }

    def token_set(
        self, user: User, family: RefreshFamily, refresh_secret: str, now: datetime
    ) -> TokenSet:
        """The tokens of a session; the refresh token seals `refresh_secret` with the
        family's current generation."""
        ttl = int(self._policy.access_token_ttl.total_seconds())
        access = self._base(user.id, AuthPolicy.ACCESS_AUDIENCE, now, ttl)
        access.update(sid=family.id, did=family.device_id, kind=user.kind.value)
        identity = self._base(user.id, AuthPolicy.ACCESS_AUDIENCE, now, ttl)
        identity.update(kind=user.kind.value, email=user.email,
                        email_verified=user.email_confirmed, name=user.display_name)
        return TokenSet(
            access_token=self._signer.sign(access, "at+jwt"),
            id_token=self._signer.sign(identity, "JWT"),
            refresh_token=self._seal.seal(family.id, family.generation, refresh_secret),
            expires_in=ttl,
        )

    def open_refresh_token(self, token: str) -> SealedToken | None:
        """What a sealed refresh token names, if this server sealed it."""
        return self._seal.open(token)

    def connection_token(
        self, user_id: str, device_id: str, channels: list[str], now: datetime
    ) -> str:
        """`sub` and `did` let a gateway close the user's (or that device's) sockets when
        sessions end; `jti` caps the sockets one token may open."""
        ttl = int(self._policy.connection_token_ttl.total_seconds())
        claims = self._base(user_id, AuthPolicy.REALTIME_AUDIENCE, now, ttl)
        claims.update(did=device_id, channels=channels)
        return self._signer.sign(claims, "JWT")
