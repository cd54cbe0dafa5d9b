"""Who may open a socket: node limits first (cheap), then the connection token."""

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.crypto.eddsa import InvalidToken, UnknownKid

MAX_CHANNELS = 16

REFUSAL_REASONS = (
    "draining", "connection_limit", "handshake_rate", "too_many_sockets_per_address",
    "keys_not_loaded", "token_expired", "unknown_kid", "invalid_token", "check_failed",
    "too_many_sockets_per_token",
)
"""Why a handshake was refused: the `reason` label of `atelier_gateway_handshakes_total`."""


def refusal_reason(error: InvalidToken) -> str:
    """The metrics reason for a refused token (a fixed few; never the token's own text)."""
    if isinstance(error, UnknownKid):
        return "unknown_kid"
    return "token_expired" if error.reason == "expired" else "invalid_token"


class Refetcher(Protocol):
    async def refresh_for(self, kid: str) -> bool: ...


class ConnectionTokenVerifier(Protocol):
    """Checks a connection token against the keys in hand (EdDSAVerifier over the JWKS)."""

    def verify(self, token: str) -> dict[str, Any]: ...

    def header_kid(self, header_segment: str) -> str: ...


@dataclass(frozen=True)
class Admitted:
    """What the gateway keeps of a connection token: the key that signed it (closed when
    revoked), its channels, and who it is for (closed when their sessions end)."""

    kid: str
    channels: tuple[str, ...]
    subject: str
    device_id: str | None
    token_id: str


MAX_RETRY_AFTER = 30.0  # seconds: the longest wait a refused handshake is told


class TokenBucket:
    """Node-wide handshake rate: `rate` per second with bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, monotonic: Any = time.monotonic) -> None:
        self._rate, self._burst, self._now = rate, float(burst), monotonic
        self._tokens, self._stamp = float(burst), monotonic()
        self._booked: float = monotonic()  # when every refused client told so far is served

    def take(self) -> float:
        """0 when allowed, else the seconds to wait."""
        now = self._now()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate

    def retry_after(self, cap: float = MAX_RETRY_AFTER) -> int:
        """Whole seconds a refused client should wait: its turn if every client refused
        before it comes back at its own turn, one bucket token apart (1 to `cap`). A crowd
        refused within the same second is thus told 1, 2, 3... s, not all 1 s."""
        now: float = self._now()
        turn = min(max(now, self._booked) + 1.0 / self._rate, now + cap)
        self._booked = turn
        return max(1, min(int(cap), math.ceil(turn - now)))


def honoured_channels(claims: dict[str, Any]) -> tuple[str, ...]:
    """The token's channels a token may grant: its own `user:{sub}` and `broadcast`."""
    requested = claims.get("channels")
    if not isinstance(requested, list) or len(requested) > MAX_CHANNELS:
        raise InvalidToken("malformed channels claim")
    allowed = {f"user:{claims['sub']}", "broadcast"}
    return tuple(sorted({c for c in requested if isinstance(c, str) and c in allowed}))


class TokenAdmission:
    """Verifies a connection token locally; an unknown kid may refetch the JWKS once."""

    def __init__(self, verifier: ConnectionTokenVerifier, jwks: Refetcher) -> None:
        self._verifier, self._jwks = verifier, jwks

    async def admit(self, token: str) -> Admitted:
        try:
            claims = self._verifier.verify(token)
        except UnknownKid:
            kid = self._verifier.header_kid(token.split(".", 1)[0])
            if not await self._jwks.refresh_for(kid):
                raise
            claims = self._verifier.verify(token)
        kid = self._verifier.header_kid(token.split(".", 1)[0])
        device_id, token_id = claims.get("did"), claims.get("jti")
        if not isinstance(token_id, str) or not token_id:
            raise InvalidToken("missing jti")  # the per-token socket cap counts by it
        return Admitted(kid, honoured_channels(claims), claims["sub"],
                        device_id if isinstance(device_id, str) else None, token_id)
