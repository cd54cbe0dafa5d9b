"""EdDSA (Ed25519) JWTs: signing with the active key and a lean, strict verifier.

The verifier does what `jwt.decode` does for this one algorithm, minus its generality:
header segments are parsed once and remembered, so a verification costs little more than
the raw Ed25519 check (see docs/performance.md).

The Ed25519 arithmetic itself is libsodium's (PyNaCl): it signs the same bytes as
`cryptography` (Ed25519 is deterministic) in about 0.6 of the time and verifies in about
half, and its verification is the stricter one (non-canonical `S`, small-order keys and
`R` refused). Keys still travel as `cryptography` objects everywhere else.
"""

import base64
import binascii
import time
from collections.abc import Callable
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

from application.ports.tokens import SigningUnavailable
from domain.keys.model import SigningKey, b64url
from domain.shared.errors import Unauthorized

MAX_TOKEN_BYTES = 4096
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256"})
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_decode_json = msgspec.json.Decoder().decode
_encode_json = msgspec.json.Encoder().encode  # compact, key order kept


class InvalidToken(Unauthorized):
    """The token is missing, malformed, expired or not ours."""

    code = "invalid_token"

    def __init__(self, reason: str) -> None:
        super().__init__("invalid token")
        self.reason = reason


class UnknownKid(InvalidToken):
    """Signed by a key this verifier does not (yet) know."""


def generate_ed25519() -> tuple[bytes, bytes]:
    private = Ed25519PrivateKey.generate()
    return private.public_key().public_bytes_raw(), private.private_bytes_raw()


def _b64url_bytes(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _b64decode(segment: str) -> bytes:
    """Strict base64url without padding: any character outside the alphabet is refused."""
    try:
        raw = segment.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidToken("malformed segment") from None
    if not raw or b"=" in raw or b"+" in raw or b"/" in raw:
        raise InvalidToken("malformed segment")
    try:
        return binascii.a2b_base64(
            raw.translate(_TO_STANDARD) + b"=" * (-len(raw) % 4), strict_mode=True)
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed segment") from None


def _json_segment(segment: str) -> dict[str, Any]:
    try:
        value = _decode_json(_b64decode(segment))
    except msgspec.DecodeError:
        raise InvalidToken("malformed json") from None
    if not isinstance(value, dict):
        raise InvalidToken("malformed json")
    return value


class EdDSASigner:
    """TokenSigner over whatever key is active now (the ring is refreshed elsewhere)."""

    def __init__(self, active_key: Callable[[], SigningKey | None]) -> None:
        self._active_key = active_key
        self._private: dict[str, bytes] = {}  # kid -> libsodium's secret key (seed + public)
        self._headers: dict[tuple[str, str], bytes] = {}

    def sign(self, claims: dict[str, Any], typ: str) -> str:
        key = self._active_key()
        if key is None:
            raise SigningUnavailable("no active signing key: run `atelier keys rotate`")
        private = self._private.get(key.kid)
        if private is None:
            private = self._private[key.kid] = crypto_sign_seed_keypair(key.private_key)[1]
        header = self._headers.get((key.kid, typ))
        if header is None:
            raw = _encode_json({"alg": "EdDSA", "typ": typ, "kid": key.kid})
            header = self._headers[(key.kid, typ)] = _b64url_bytes(raw)
        signing_input = header + b"." + _b64url_bytes(_encode_json(claims))
        signature = crypto_sign(signing_input, private)[:64]  # signature, then the message
        return (signing_input + b"." + _b64url_bytes(signature)).decode()


class EdDSAVerifier:
    """Strict EdDSA JWT verification: algorithm pinned, key looked up by kid only, no
    jku/x5u/jwk/x5c, no unknown crit, exp/iat/iss/aud/sub required, and no lifetime
    (exp - iat) longer than `max_lifetime` seconds (+ leeway): a leaked key cannot mint a
    token that outlives the time it takes to revoke it."""

    def __init__(
        self,
        public_key: Callable[[str], Ed25519PublicKey | None],
        issuer: str,
        audience: str,
        typ: str | None,
        leeway: float,
        *,
        max_lifetime: float,
        wall: Callable[[], float] = time.time,
        max_bytes: int = MAX_TOKEN_BYTES,
    ) -> None:
        self._public_key = public_key
        self._issuer, self._audience, self._typ = issuer, audience, typ
        self._leeway, self._wall, self._max_bytes = leeway, wall, max_bytes
        self._max_lifetime = max_lifetime
        self._header_kids: dict[str, str] = {}

    def key_still_trusted(self, token: str) -> bool:
        """For a token verified earlier: False once the key that signed it is revoked."""
        try:
            kid = self.header_kid(token.partition(".")[0])
        except InvalidToken:
            return False
        return self._public_key(kid) is not None

    def header_kid(self, header_segment: str) -> str:
        kid = self._header_kids.get(header_segment)
        if kid is not None:
            return kid
        header = _json_segment(header_segment)
        if header.get("alg") != "EdDSA":
            raise InvalidToken("algorithm not allowed")
        if FORBIDDEN_HEADERS.intersection(header):
            raise InvalidToken("key-locating headers are not accepted")
        if "crit" in header:
            raise InvalidToken("unknown critical header")
        if self._typ is not None and header.get("typ") != self._typ:
            raise InvalidToken("wrong token type")
        kid = header.get("kid")
        if not isinstance(kid, str) or not 1 <= len(kid) <= 128:
            raise InvalidToken("missing kid")
        if len(self._header_kids) > 1024:
            self._header_kids.clear()
        self._header_kids[header_segment] = kid
        return kid

    def verify(self, token: str) -> dict[str, Any]:
        if not isinstance(token, str) or len(token) > self._max_bytes:
            raise InvalidToken("token too large")
        signing_input, _, signature_segment = token.rpartition(".")
        header_segment, _, payload_segment = signing_input.partition(".")
        if not payload_segment or "." in payload_segment:
            raise InvalidToken("malformed token")
        kid = self.header_kid(header_segment)
        key = self._public_key(kid)
        if key is None:
            raise UnknownKid("unknown kid")
        signature = _b64decode(signature_segment)
        if len(signature) != 64 or b64url(signature) != signature_segment:
            raise InvalidToken("malformed signature")
        try:
            crypto_sign_open(signature + signing_input.encode(), key.public_bytes_raw())
        except BadSignatureError:
            raise InvalidToken("bad signature") from None
        claims = _json_segment(payload_segment)
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self._wall()
        exp, iat = _time_claim(claims.get("exp")), _time_claim(claims.get("iat"))
        nbf = _time_claim(claims.get("nbf", 0))
        if exp <= now - self._leeway:
            raise InvalidToken("expired")
        if iat > now + self._leeway or nbf > now + self._leeway:
            raise InvalidToken("not yet valid")
        if exp - iat > self._max_lifetime + self._leeway:
            raise InvalidToken("lifetime too long")
        if claims.get("iss") != self._issuer:
            raise InvalidToken("wrong issuer")
        aud = claims.get("aud")
        if aud != self._audience and not (isinstance(aud, list) and self._audience in aud):
            raise InvalidToken("wrong audience")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("missing subject")


def _time_claim(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidToken("missing or malformed time claim")
    return value
