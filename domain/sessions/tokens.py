"""Opaque refresh tokens: 256-bit, stored only as SHA-256 hashes."""

import base64
import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_refresh_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_rotation_nonce() -> bytes:
    return secrets.token_bytes(TOKEN_BYTES)


def derive_successor(presented: str, nonce: bytes) -> str:
    """The token that replaces `presented`: HMAC keyed by it over a fresh random nonce.

    Only a holder of `presented` (which the server never stores) together with the nonce
    (which only the server stores) can compute it, so a request racing inside the reuse
    interval can be handed the very token the first one got.
    """
    digest = hmac.new(presented.encode(), nonce, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
