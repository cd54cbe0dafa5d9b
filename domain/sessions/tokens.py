"""Refresh tokens: a 256-bit secret, stored only as its SHA-256 hash, sealed into a token
that names its family and generation under the server's MAC key."""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_BYTES = 32
SEALED_VERSION = "v2"
MIN_KEY_BYTES = 32
_MAC_LABEL = b"atelier refresh token mac v2"
_FAMILY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_B64_32 = re.compile(r"[A-Za-z0-9_-]{43}")
_SEALED = re.compile(
    r"v2\.([A-Za-z0-9_-]{1,64})\.(0|[1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})")


def new_refresh_token() -> str:
    """A fresh secret: the whole token of the first format, the secret part of a sealed one."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_rotation_nonce() -> bytes:
    return secrets.token_bytes(TOKEN_BYTES)


def derive_successor(presented: str, nonce: bytes) -> str:
    """The secret that replaces `presented`: HMAC keyed by it over a fresh random nonce.

    Only a holder of `presented` (which the server never stores) together with the nonce
    (which only the server stores) can compute it, so a request racing inside the reuse
    interval can be handed the very token the first one got.
    """
    digest = hmac.new(presented.encode(), nonce, hashlib.sha256).digest()
    return _b64(digest)


@dataclass(frozen=True, slots=True)
class SealedToken:
    """What a sealed refresh token names: its family, the generation that issued it, and the
    secret whose hash the family stores while the token is current (or just replaced)."""

    family_id: str
    generation: int
    secret: str


class RefreshTokenSeal:
    """`v2.<family>.<generation>.<secret>.<mac>`: the MAC (HMAC-SHA256 under a key only the
    servers hold, never the database) proves the server issued that generation of that
    family, so a replay of any older generation is recognised from the family row alone.
    The secret still has to match the stored hash for the token to be honoured."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"a refresh token key needs at least {MIN_KEY_BYTES} bytes")
        derived = hmac.new(key, _MAC_LABEL, hashlib.sha256).digest()
        self._mac_state = hmac.new(derived, digestmod=hashlib.sha256)  # copied per token

    def seal(self, family_id: str, generation: int, secret: str) -> str:
        if not (_FAMILY.fullmatch(family_id) and _B64_32.fullmatch(secret)
                and 0 <= generation < 10**10):
            raise ValueError("not a sealable refresh token")
        body = f"{SEALED_VERSION}.{family_id}.{generation}.{secret}"
        return f"{body}.{self._mac(body)}"

    def open(self, token: str) -> SealedToken | None:
        """The token's contents if it is a well-formed sealed token with a valid MAC."""
        match = _SEALED.fullmatch(token)
        if match is None:
            return None
        family_id, generation, secret, mac = match.groups()
        expected = self._mac(token[: -len(mac) - 1])
        if not hmac.compare_digest(expected.encode(), mac.encode()):
            return None
        return SealedToken(family_id, int(generation), secret)

    def _mac(self, body: str) -> str:
        state = self._mac_state.copy()
        state.update(body.encode())
        return _b64(state.digest())


def is_sealed(token: str) -> bool:
    """True for a token of the sealed format (valid or not); the others are of the first
    format, which only names a hash."""
    return token.startswith(SEALED_VERSION + ".")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
