"""Sign in with Apple's REST API for this app's tokens: `/auth/token` to redeem an
authorization code, `/auth/revoke` to revoke. Both take a client secret that is an ES256
JWT signed with the team's Sign in with Apple key (iss = team id, sub = client id, aud =
Apple, at most six months; ours live five minutes)."""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

import httpx
import jwt

from application.ports.apple_tokens import RevocableToken

SECRET_LIFETIME = 300
TIMEOUT = 10.0


class AppleRefused(Exception):
    """Apple answered the request with an error other than a refused code."""


class AppleTokenRevocation:
    """Redeems authorization codes and revokes tokens for one client id (the app's bundle
    id: the one its native Sign in with Apple codes are issued to)."""

    def __init__(
        self, client: httpx.AsyncClient, *, client_id: str, team_id: str, key_id: str,
        private_key: str, audience: str, token_url: str, revoke_url: str,
    ) -> None:
        self._client, self._client_id = client, client_id
        self._team_id, self._key_id, self._private_key = team_id, key_id, private_key
        self._audience, self._token_url, self._revoke_url = audience, token_url, revoke_url

    @classmethod
    @asynccontextmanager
    async def create(cls, **config: str) -> AsyncIterator[Self]:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                                     trust_env=False) as client:
            yield cls(client, **config)

    @property
    def enabled(self) -> bool:
        return True

    def client_secret(self) -> str:
        now = int(time.time())
        return jwt.encode(
            {"iss": self._team_id, "iat": now, "exp": now + SECRET_LIFETIME,
             "aud": self._audience, "sub": self._client_id},
            self._private_key, algorithm="ES256", headers={"kid": self._key_id})

    async def redeem(self, code: str) -> RevocableToken | None:
        answer = await self._post(self._token_url, {
            "grant_type": "authorization_code", "code": code})
        if answer.status_code == 400 and _error(answer) == "invalid_grant":
            return None  # used, expired, or never ours
        _raise_unless_ok(answer)
        body = answer.json()
        if body.get("refresh_token"):
            return RevocableToken(str(body["refresh_token"]), "refresh_token")
        return RevocableToken(str(body["access_token"]), "access_token")

    async def revoke(self, token: RevocableToken) -> None:
        _raise_unless_ok(await self._post(self._revoke_url, {
            "token": token.value, "token_type_hint": token.hint}))

    async def _post(self, url: str, fields: dict[str, str]) -> httpx.Response:
        return await self._client.post(url, data={
            "client_id": self._client_id, "client_secret": self.client_secret(), **fields})


class AppleRevocationOff:
    """No team key configured: nothing is redeemed or revoked."""

    @property
    def enabled(self) -> bool:
        return False

    async def redeem(self, code: str) -> RevocableToken | None:
        return None

    async def revoke(self, token: RevocableToken) -> None:
        return None


def _error(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error", ""))
    except ValueError:
        return ""


def _raise_unless_ok(answer: httpx.Response) -> None:
    if answer.status_code != 200:
        raise AppleRefused(f"Apple answered {answer.status_code} {_error(answer)}".strip())
