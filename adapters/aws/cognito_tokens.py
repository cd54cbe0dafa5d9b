"""Cognito access tokens of the `admins` group, verified against the user pool's JWKS.

RS256 only (Cognito signs RS256); keys come from one fixed JWKS URL, cached by kid, with
one coalesced refetch per cooldown on an unknown kid; the issuer is configured apart from
the URL (moto serves the JWKS locally but writes the real AWS issuer into its tokens).
"""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from jwt.algorithms import RSAAlgorithm

from domain.admins.model import ADMINS_GROUP, AdminIdentity, AdminSource, NotAnAdmin
from domain.shared.errors import Unauthorized

MAX_TOKEN_BYTES = 8192
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})


class InvalidCognitoToken(Unauthorized):
    """The access token is missing, malformed, expired or not from our user pool."""

    code = "invalid_token"


class CognitoJwks:
    """RSA public keys by kid from the user pool's JWKS URL."""

    def __init__(
        self, client: httpx.AsyncClient, url: str, *, refetch_cooldown: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client, self._url = client, url
        self._cooldown, self._now = refetch_cooldown, monotonic
        self._keys: dict[str, Any] = {}
        self._last_fetch = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Any | None:
        found = self._keys.get(kid)
        if found is not None:
            return found
        async with self._lock:  # one fetch at a time; the others then read its result
            if kid not in self._keys and self._now() - self._last_fetch >= self._cooldown:
                await self._fetch()
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        self._last_fetch = self._now()
        try:
            response = await self._client.get(self._url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = json.loads(response.content)
        except (httpx.HTTPError, ValueError):
            return  # keep the last good keys
        keys: dict[str, Any] = {}
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or "d" in jwk:
                continue
            if jwk.get("alg", "RS256") != "RS256" or jwk.get("use", "sig") != "sig":
                continue
            kid = jwk.get("kid")
            if isinstance(kid, str):
                try:
                    keys[kid] = RSAAlgorithm.from_jwk(jwk)
                except (jwt.InvalidKeyError, ValueError, KeyError):
                    continue
        if keys:
            self._keys = keys


class CognitoAdminTokens:
    """AdminTokenVerifier for production: `token_use` access, our app client, our pool's
    issuer, unexpired, and `cognito:groups` holding `admins`."""

    def __init__(
        self, jwks: CognitoJwks, issuer: str, client_ids: frozenset[str],
        group: str = ADMINS_GROUP, leeway: float = 30.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._jwks, self._issuer, self._client_ids = jwks, issuer, client_ids
        self._group, self._leeway, self._wall = group, leeway, wall

    async def verify(self, token: str) -> AdminIdentity:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidCognitoToken()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidCognitoToken() from None
        kid = header.get("kid")
        if header.get("alg") != "RS256" or FORBIDDEN_HEADERS.intersection(header):
            raise InvalidCognitoToken()
        key = await self._jwks.key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidCognitoToken()
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["RS256"], issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "sub", "token_use", "client_id"],
                         "verify_aud": False, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise InvalidCognitoToken() from None
        self._check(claims)
        groups = claims.get("cognito:groups") or []
        if not isinstance(groups, list) or self._group not in groups:
            raise NotAnAdmin()
        email = claims.get("email")  # access tokens seldom carry it; `sub` names the actor
        return AdminIdentity(str(claims["sub"]), AdminSource.COGNITO,
                             email if isinstance(email, str) else None)

    def _check(self, claims: dict[str, Any]) -> None:
        now = self._wall()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or exp <= now - self._leeway:
            raise InvalidCognitoToken()
        if not isinstance(iat, int | float) or iat > now + self._leeway:
            raise InvalidCognitoToken()
        # Access tokens carry client_id (ID tokens carry aud instead): refuse ID tokens.
        if claims.get("token_use") != "access" or claims.get("client_id") not in self._client_ids:
            raise InvalidCognitoToken()
