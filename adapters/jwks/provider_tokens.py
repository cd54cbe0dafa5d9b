"""`ProviderIdTokenVerifier`: Sign in with Apple and Google ID tokens, checked against each
provider's published RSA keys (an `HttpJwksSource` per provider: cached, one coalesced
refetch per cooldown on an unknown kid, the last good set kept while the provider is down).

The algorithm is pinned (RS256) before any key is looked up, so `none`, HS256 signed with
the public key, or a header pointing at other keys (jku, x5u, jwk, x5c) never reach the
network; `iss` must be one of the provider's exact issuers and `aud` one of our client ids.
"""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from adapters.jwks.source import HttpJwksSource, parse_key_set
from application.ports.identities import IdTokenVerifier
from domain.users.identities import InvalidIdToken, Provider, ProviderClaims, ProviderDisabled
from domain.users.model import InvalidEmail, normalize_email

MAX_TOKEN_BYTES = 8192
MIN_RSA_BITS = 2048
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
PINNED_ALGORITHM = "RS256"


def _rsa_key(jwk: Any) -> tuple[str, RSAPublicKey] | None:
    if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or "d" in jwk:
        return None
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= 128:
        return None
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", PINNED_ALGORITHM) != PINNED_ALGORITHM:
        return None
    try:
        key = RSAAlgorithm.from_jwk(jwk)
    except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        return None
    if not isinstance(key, RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        return None
    return kid, key


def parse_rsa_jwks(body: bytes) -> dict[str, RSAPublicKey]:
    """A provider's JWKS: its RSA signing keys by kid (others are skipped)."""
    return parse_key_set(body, _rsa_key, "RSA")


@dataclass(frozen=True)
class ProviderConfig:
    """One provider as this server trusts it."""

    provider: Provider
    issuers: frozenset[str]
    client_ids: frozenset[str]
    keys: HttpJwksSource
    nonce_hashed: bool
    """Apple: the token carries SHA-256(raw nonce) in hex; Google: the nonce as sent."""
    nonce_required: bool


def _truthy(value: object) -> bool:
    # Apple writes booleans as strings ("true"); Google as JSON booleans.
    return value is True or value == "true"


class ProviderIdTokenVerifier:
    def __init__(self, providers: Mapping[Provider, ProviderConfig], leeway: float) -> None:
        self._providers, self._leeway = dict(providers), leeway

    async def verify(
        self, provider: Provider, id_token: str, nonce: str | None
    ) -> ProviderClaims:
        config = self._providers.get(provider)
        if config is None or not config.client_ids:
            raise ProviderDisabled()
        key = await self._signing_key(config, id_token)
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token, key, algorithms=[PINNED_ALGORITHM],
                audience=sorted(config.client_ids), issuer=sorted(config.issuers),
                leeway=self._leeway,
                options={"require": ["iss", "aud", "sub", "exp", "iat"], "verify_nbf": True})
        except jwt.PyJWTError:
            raise InvalidIdToken() from None
        self._check_nonce(config, claims.get("nonce"), nonce)
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= 255:
            raise InvalidIdToken()
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)  # a number: jwt checked it
        return ProviderClaims(provider, subject, self._vouched_email(claims), expires_at)

    async def _signing_key(self, config: ProviderConfig, id_token: str) -> RSAPublicKey:
        if len(id_token) > MAX_TOKEN_BYTES:
            raise InvalidIdToken()
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise InvalidIdToken() from None
        kid = header.get("kid")
        if (header.get("alg") != PINNED_ALGORITHM or FORBIDDEN_HEADERS & header.keys()
                or not isinstance(kid, str) or not 0 < len(kid) <= 128):
            raise InvalidIdToken()
        key = config.keys.key(kid)
        if key is None and await config.keys.refresh_for(kid):
            key = config.keys.key(kid)
        if not isinstance(key, RSAPublicKey):
            raise InvalidIdToken()
        return key

    @staticmethod
    def _check_nonce(config: ProviderConfig, claimed: object, raw: str | None) -> None:
        if raw is None:
            if config.nonce_required or claimed is not None:
                raise InvalidIdToken()
            return
        expected = hashlib.sha256(raw.encode()).hexdigest() if config.nonce_hashed else raw
        if not isinstance(claimed, str) or not hmac.compare_digest(
                claimed.encode(), expected.encode()):
            raise InvalidIdToken()

    @staticmethod
    def _vouched_email(claims: Mapping[str, Any]) -> str | None:
        """The address only when the provider says it verified it; an odd one is dropped
        (the member can add an address later), never a reason to refuse the sign-in."""
        email = claims.get("email")
        if not isinstance(email, str) or not _truthy(claims.get("email_verified")):
            return None
        try:
            return normalize_email(email)
        except InvalidEmail:
            return None


_satisfies_port: type[IdTokenVerifier] = ProviderIdTokenVerifier
