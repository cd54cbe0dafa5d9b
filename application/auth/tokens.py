import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.auth.policy import AuthPolicy
from application.ports.tokens import TokenSigner
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

    def __init__(self, signer: TokenSigner, policy: AuthPolicy) -> None:
        self._signer = signer
        self._policy = policy

    def _base(self, subject: str, audience: str, now: datetime, ttl_seconds: int) -> dict[str, Any]:
        issued = int(now.timestamp())
        return {
            "iss": self._policy.issuer, "sub": subject, "aud": audience,
            "iat": issued, "exp": issued + ttl_seconds, "jti": secrets.token_urlsafe(12),
        }

    def token_set(
        self, user: User, session_id: str, device_id: str, refresh_token: str, now: datetime
    ) -> TokenSet:
        ttl = int(self._policy.access_token_ttl.total_seconds())
        access = self._base(user.id, AuthPolicy.ACCESS_AUDIENCE, now, ttl)
        access.update(sid=session_id, did=device_id, kind=user.kind.value)
        identity = self._base(user.id, AuthPolicy.ACCESS_AUDIENCE, now, ttl)
        identity.update(kind=user.kind.value, email=user.email,
                        email_verified=user.email_confirmed, name=user.display_name)
        return TokenSet(
            access_token=self._signer.sign(access, "at+jwt"),
            id_token=self._signer.sign(identity, "JWT"),
            refresh_token=refresh_token,
            expires_in=ttl,
        )

    def connection_token(
        self, user_id: str, device_id: str, channels: list[str], now: datetime
    ) -> str:
        """`sub` and `did` let a gateway close the user's (or that device's) sockets when
        sessions end; `jti` caps the sockets one token may open."""
        ttl = int(self._policy.connection_token_ttl.total_seconds())
        claims = self._base(user_id, AuthPolicy.REALTIME_AUDIENCE, now, ttl)
        claims.update(did=device_id, channels=channels)
        return self._signer.sign(claims, "JWT")
