"""A fake Cognito hosted UI (the pool's OAuth 2.0 authorization server) on loopback:
`/oauth2/authorize` shows a sign-in form (or approves at once as `auto_approve_as`),
`/oauth2/token` exchanges a code once, only with the PKCE verifier of its challenge and the
same redirect_uri, and issues RS256 ID and access tokens as Cognito writes them (with
`cognito:groups`); `/.well-known/jwks.json` publishes the key."""

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from litestar import Litestar, Request, Response, get, post
from litestar.enums import MediaType
from litestar.response import Redirect

from tests.support.thread_server import serving_in_thread

CLIENT_ID = "console-app-client"


@dataclass(frozen=True)
class PoolUser:
    username: str
    email: str
    groups: tuple[str, ...]
    sub: str = field(default_factory=lambda: secrets.token_hex(16))


@dataclass
class Grant:
    user: PoolUser
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    used: bool = False


@dataclass
class FakeHostedUi:
    users: dict[str, PoolUser] = field(default_factory=dict)
    auto_approve_as: str | None = None
    """A username: `/oauth2/authorize` then redirects back at once, as with a live session."""
    nonce_override: str | None = None
    """Written into the next ID tokens instead of the nonce asked for (a forged token)."""
    base_url: str = ""
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = field(default_factory=lambda: secrets.token_hex(8))
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_user(self, username: str, *groups: str) -> PoolUser:
        user = PoolUser(username, f"{username}@atelier.test", groups)
        self.users[username] = user
        return user

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    def settings(self, console_url: str) -> dict[str, Any]:
        """The console's settings that point at this server."""
        return {"admin_auth": "cognito", "console_cognito_domain": self.base_url,
                "console_cognito_client_id": CLIENT_ID, "console_public_url": console_url,
                "admin_cognito_issuer": self.issuer, "admin_cognito_jwks_url": self.jwks_url,
                "admin_cognito_client_ids": CLIENT_ID}

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return {"keys": [jwk]}

    def grant(self, user: PoolUser, query: dict[str, str]) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.grants[code] = Grant(user, query["client_id"], query["redirect_uri"],
                                      query["code_challenge"], query.get("nonce"))
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def redeem(self, form: dict[str, str]) -> dict[str, Any] | None:
        """The tokens for a code, or None (invalid_grant): unknown or used code, another
        client or redirect_uri, or a verifier that does not hash to the challenge."""
        with self._lock:
            self.token_requests += 1
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used:
                return None
            grant.used = True  # spent even when the rest is wrong, as a code is
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (form.get("grant_type") != "authorization_code" or challenge != grant.challenge
                or form.get("client_id") != grant.client_id
                or form.get("redirect_uri") != grant.redirect_uri):
            return None
        return self.tokens(grant.user, grant.client_id, grant.nonce)

    def tokens(self, user: PoolUser, client_id: str, nonce: str | None) -> dict[str, Any]:
        now = int(time.time())
        common = {"sub": user.sub, "iss": self.issuer, "iat": now, "exp": now + 3600,
                  "auth_time": now, "cognito:groups": list(user.groups)}
        id_claims = {**common, "aud": client_id, "token_use": "id", "email": user.email,
                     "cognito:username": user.username,
                     "nonce": self.nonce_override or nonce, "jti": secrets.token_hex(8)}
        access_claims = {**common, "client_id": client_id, "token_use": "access",
                         "scope": "openid email profile", "username": user.username,
                         "jti": secrets.token_hex(8)}
        headers = {"kid": self.kid}
        return {"id_token": jwt.encode(id_claims, self.key, "RS256", headers=headers),
                "access_token": jwt.encode(access_claims, self.key, "RS256", headers=headers),
                "refresh_token": secrets.token_urlsafe(32), "token_type": "Bearer",
                "expires_in": 3600}

    def app(self) -> Litestar:
        fake = self

        @get("/oauth2/authorize", sync_to_thread=False)
        def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
            query = dict(request.query_params)
            needed = ("client_id", "redirect_uri", "state", "code_challenge")
            if (query.get("response_type") != "code" or any(not query.get(n) for n in needed)
                    or query.get("code_challenge_method") != "S256"):
                return Response({"error": "invalid_request"}, status_code=400)
            if fake.auto_approve_as:
                return Redirect(fake.grant(fake.users[fake.auto_approve_as], query))
            hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                             for k, v in query.items())
            return Response(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Sign in</title></head><body><main><h1>Sign in</h1>
<form method="post" action="/login">{hidden}<label for="username">Username</label>
<input id="username" name="username" autocomplete="username">
<button type="submit">Sign in</button></form></main></body></html>""",
                            media_type=MediaType.HTML)

        @post("/login", status_code=302)
        async def login(request: Request[Any, Any, Any]) -> Response[Any]:
            form = dict(await request.form())
            user = fake.users.get(str(form.pop("username", "")))
            if user is None:
                return Response("unknown user", status_code=401, media_type=MediaType.TEXT)
            return Redirect(fake.grant(user, {k: str(v) for k, v in form.items()}))

        @post("/oauth2/token")
        async def token(request: Request[Any, Any, Any]) -> Response[Any]:
            form = {k: str(v) for k, v in (await request.form()).items()}
            tokens = fake.redeem(form)
            if tokens is None:
                return Response({"error": "invalid_grant"}, status_code=400)
            return Response(tokens, status_code=200)

        @get("/.well-known/jwks.json", sync_to_thread=False)
        def jwks() -> dict[str, Any]:
            return fake.jwks()

        return Litestar([authorize, login, token, jwks], logging_config=None)


@contextmanager
def running_fake_hosted_ui() -> Iterator[FakeHostedUi]:
    fake = FakeHostedUi()
    with serving_in_thread(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake
