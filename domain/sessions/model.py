from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.sessions.tokens import (
    derive_successor,
    hash_token,
    new_refresh_token,
    new_rotation_nonce,
)
from domain.shared.errors import Unauthorized


class InvalidRefreshToken(Unauthorized):
    """The refresh token is not valid."""

    code = "invalid_refresh_token"


class RefreshTokenExpired(InvalidRefreshToken):
    """The refresh token has expired; log in again."""

    code = "refresh_token_expired"


class RefreshTokenRevoked(InvalidRefreshToken):
    """This session has ended; log in again."""

    code = "session_revoked"


class RefreshTokenReused(InvalidRefreshToken):
    """The refresh token was already used; the session has been ended."""

    code = "refresh_token_reused"


class DeviceMismatch(InvalidRefreshToken):
    """The refresh token belongs to another device; the session has been ended."""

    code = "device_mismatch"


@dataclass
class RefreshFamily:
    """Every refresh token descended from one login on one device.

    Tokens rotate on use; the one they replaced is honoured again only inside the reuse
    interval (and then yields the same successor), any older one revokes the family. The
    family keeps the hash of its current token's secret and of the one before it; a token
    names its generation (the login's is 0), so no older hash needs keeping.
    """

    id: str
    user_id: str
    device_id: str
    created_at: datetime
    expires_at: datetime
    current_hash: str
    generation: int = 0
    previous_hash: str | None = None
    rotation_nonce: bytes | None = None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    @classmethod
    def start(
        cls, family_id: str, user_id: str, device_id: str, now: datetime, lifetime: timedelta
    ) -> tuple["RefreshFamily", str]:
        token = new_refresh_token()
        digest = hash_token(token)
        family = cls(
            id=family_id, user_id=user_id, device_id=device_id, created_at=now,
            expires_at=now + lifetime, current_hash=digest,
        )
        return family, token

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def current_issued_at(self) -> datetime:
        """When the current token was issued: at login, or at the last rotation."""
        return self.rotated_at or self.created_at

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def refresh(
        self, presented: str, device_id: str, now: datetime, reuse_interval: timedelta,
        generation: int | None = None,
    ) -> str:
        """Rotate on the current token; converge inside the reuse interval; else revoke.
        `presented` is the token's secret; `generation`, the one a sealed token names (a
        token of the first format names none)."""
        if self.revoked_at is not None:
            raise RefreshTokenRevoked()
        if now >= self.expires_at:
            raise RefreshTokenExpired()
        if generation is not None and generation > self.generation:
            raise InvalidRefreshToken()  # never issued by this family as stored
        if device_id != self.device_id:
            self.revoke(now, "device_mismatch")
            raise DeviceMismatch()
        digest = hash_token(presented)
        if digest == self.current_hash:
            nonce = new_rotation_nonce()
            successor = derive_successor(presented, nonce)
            self.rotate_to(hash_token(successor), nonce, now)
            return successor
        if (
            digest == self.previous_hash
            and self.rotation_nonce is not None
            and self.rotated_at is not None
            and now - self.rotated_at <= reuse_interval
        ):
            return derive_successor(presented, self.rotation_nonce)
        self.revoke(now, "reuse_detected")
        raise RefreshTokenReused()

    def rotates_on(self, token_hash: str, device_id: str, now: datetime) -> bool:
        """True when presenting this token now is a plain rotation (the common case): the
        current token, from the bound device, of a live family. Anything else goes through
        `refresh`, which decides between converging, revoking and refusing."""
        return (
            self.revoked_at is None and now < self.expires_at
            and device_id == self.device_id and token_hash == self.current_hash
        )

    def rotate_to(self, successor_hash: str, nonce: bytes, now: datetime) -> None:
        """The current token gives way to the one derived from it with `nonce`."""
        self.previous_hash, self.rotation_nonce = self.current_hash, nonce
        self.current_hash = successor_hash
        self.rotated_at = now
        self.generation += 1

    def revoke(self, now: datetime, reason: str) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
            self.revoked_reason = reason
