"""Console sign-in through the Cognito hosted UI (production): the authorization code flow
with PKCE (S256), a `state` bound to the browser's pending sign-in and an ID token `nonce`.

`begin` gives the address to send the browser to and what to keep for its return;
`complete` checks `state`, exchanges the code (with the PKCE verifier) at the token
endpoint, verifies the ID token (RS256 with the pool's published keys; issuer, audience,
nonce) and answers the access token, which the admin token verifier then checks (the
`admins` group) as it checks any admin API token."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from entrypoints.wiring.hosted_ui_keys import hosted_ui_keys
from entrypoints.wiring.settings import Settings

SCOPE = "openid email profile"
CALLBACK_PATH = "/auth/callback"
MAX_TOKEN_BYTES = 16384
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})


@dataclass(frozen=True)
class PendingSignIn:
    """What the console keeps (server side) between sending a browser away and its return."""

    state: str
    code_verifier: str
    nonce: str


class HostedUiRefused(Exception):
    """The sign-in did not complete: state mismatch, code refused, or a bad ID token."""


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class HostedUi:
    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        if not settings.console_cognito_domain or not settings.console_cognito_client_id:
            raise ValueError("set ATELIER_CONSOLE_COGNITO_DOMAIN and "
                             "ATELIER_CONSOLE_COGNITO_CLIENT_ID for the console's sign-in")
        self._domain = settings.console_cognito_domain.rstrip("/")
        self._client_id = settings.console_cognito_client_id
        base = settings.console_public_url or settings.public_url or settings.issuer
        self.redirect_uri = base.rstrip("/") + CALLBACK_PATH
        self._issuer, self._leeway = settings.cognito_issuer, settings.token_leeway_seconds
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=10.0, follow_redirects=False,
                                               trust_env=False)
        self._keys = hosted_ui_keys(settings, self._http)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def begin(self) -> tuple[str, PendingSignIn]:
        pending = PendingSignIn(state=secrets.token_urlsafe(32),
                                code_verifier=secrets.token_urlsafe(64),
                                nonce=secrets.token_urlsafe(32))
        query = urlencode({
            "response_type": "code", "client_id": self._client_id,
            "redirect_uri": self.redirect_uri, "scope": SCOPE, "state": pending.state,
            "nonce": pending.nonce, "code_challenge": _challenge(pending.code_verifier),
            "code_challenge_method": "S256"})
        return f"{self._domain}/oauth2/authorize?{query}", pending

    async def complete(self, pending: PendingSignIn, code: str, state: str) -> str:
        # State first: a callback this browser did not start never spends the code.
        if not _same(state, pending.state):
            raise HostedUiRefused("state mismatch")
        if not code or len(code) > 2048:
            raise HostedUiRefused("no code")
        tokens = await self._exchange(pending, code)
        id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise HostedUiRefused("the token endpoint gave no tokens")
        await self._verify_id_token(id_token, pending.nonce)
        return access_token

    async def _exchange(self, pending: PendingSignIn, code: str) -> dict[str, Any]:
        try:
            response = await self._http.post(f"{self._domain}/oauth2/token", data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "client_id": self._client_id,
                "code_verifier": pending.code_verifier},
                headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise HostedUiRefused(f"token endpoint unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise HostedUiRefused(f"code refused ({response.status_code})")
        try:
            body = response.json()
        except ValueError:
            raise HostedUiRefused("token endpoint answered no JSON") from None
        if not isinstance(body, dict):
            raise HostedUiRefused("token endpoint answered no JSON object")
        return body

    async def _verify_id_token(self, id_token: str, nonce: str) -> None:
        if len(id_token) > MAX_TOKEN_BYTES:
            raise HostedUiRefused("id token too large")
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise HostedUiRefused("id token malformed") from None
        kid = header.get("kid")
        if header.get("alg") != "RS256" or FORBIDDEN_HEADERS & header.keys() \
                or not isinstance(kid, str) or not 0 < len(kid) <= 128:
            raise HostedUiRefused("id token header refused")
        key = self._keys.key(kid)
        if key is None and await self._keys.refresh_for(kid):
            key = self._keys.key(kid)
        if key is None:
            raise HostedUiRefused("id token signed by an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token, key, algorithms=["RS256"], audience=self._client_id,  # type: ignore[arg-type]
                issuer=self._issuer, leeway=self._leeway,
                options={"require": ["iss", "aud", "sub", "exp", "iat", "nonce"]})
        except jwt.PyJWTError as exc:
            raise HostedUiRefused(f"id token refused: {type(exc).__name__}") from None
        claimed = claims.get("nonce")
        if not isinstance(claimed, str) or not _same(claimed, nonce):
            raise HostedUiRefused("nonce mismatch")
        if claims.get("token_use", "id") != "id":
            raise HostedUiRefused("not an id token")
