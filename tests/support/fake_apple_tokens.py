"""A fake of Sign in with Apple's REST API on loopback: `/auth/token` (an authorization
code for tokens) and `/auth/revoke`. Like Apple it takes only form posts, and it checks
the client secret as Apple does: an ES256 JWT signed with the team's key (the `kid` it
names), iss = team id, sub = client id, aud = https://appleid.apple.com, not expired."""

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.server import lifespan_done, request_body
from tests.support.thread_server import serving_in_thread

AUDIENCE = "https://appleid.apple.com"


def new_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@dataclass
class FakeAppleTokens:
    client_id: str
    team_id: str = "TEAM123456"
    key_id: str = "KEY1234567"
    key: ec.EllipticCurvePrivateKey = field(default_factory=new_ec_key)
    url: str = ""
    down: bool = False
    codes: dict[str, str | None] = field(default_factory=dict)
    """Each code issued and the refresh token it was redeemed for (None until then)."""
    revoked: list[tuple[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self) -> dict[str, Any]:
        return {"apple_team_id": self.team_id, "apple_key_id": self.key_id,
                "apple_private_key": pem(self.key), "apple_token_url": self.url + "/auth/token",
                "apple_revoke_url": self.url + "/auth/revoke"}

    def issue_code(self) -> str:
        """A code as the app's Sign in with Apple sheet hands it over."""
        code = "c" + secrets.token_hex(16)
        with self._lock:
            self.codes[code] = None
        return code

    def revoked_tokens(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.revoked)

    def client_refused(self, fields: dict[str, str]) -> str | None:
        """Why Apple would answer invalid_client, or None."""
        secret = fields.get("client_secret", "")
        try:
            header = jwt.get_unverified_header(secret)
            claims = jwt.decode(secret, self.key.public_key(), algorithms=["ES256"],
                                audience=AUDIENCE, issuer=self.team_id,
                                options={"require": ["iss", "iat", "exp", "aud", "sub"]})
        except jwt.PyJWTError as error:
            return f"client_secret: {error}"
        if header.get("kid") != self.key_id:
            return "client_secret: unknown kid"
        if fields.get("client_id") != self.client_id or claims["sub"] != self.client_id:
            return "client_id"
        return None

    def answer(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if self.down:
            return 503, {"error": "temporarily_unavailable"}
        if content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request"}
        fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        refused = self.client_refused(fields)
        if refused is not None:
            with self._lock:
                self.refused.append(refused)
            return 400, {"error": "invalid_client"}
        if path == "/auth/token":
            return self._token(fields)
        if path == "/auth/revoke":
            hint = fields.get("token_type_hint")
            if not fields.get("token") or hint not in ("refresh_token", "access_token"):
                return 400, {"error": "invalid_request"}
            with self._lock:
                self.revoked.append((fields["token"], hint))
            return 200, {}
        return 404, {"error": "not_found"}

    def _token(self, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if fields.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        code = fields.get("code", "")
        with self._lock:
            if code not in self.codes or self.codes[code] is not None:
                return 400, {"error": "invalid_grant"}  # unknown or used (single use)
            refresh = "r." + secrets.token_hex(16)
            self.codes[code] = refresh
        return 200, {"access_token": "a." + secrets.token_hex(16), "token_type": "Bearer",
                     "expires_in": 3600, "refresh_token": refresh, "id_token": "unused"}


def _app(fake: FakeAppleTokens) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan_done(receive, send)
            return
        body = await request_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if scope["method"] != "POST":
            status, answer = 405, {"error": "method_not_allowed"}
        else:
            status, answer = fake.answer(scope["path"], headers.get("content-type", ""), body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body",
                    "body": json.dumps(answer).encode() if answer else b""})

    return app


@contextmanager
def fake_apple_tokens(client_id: str) -> Iterator[FakeAppleTokens]:
    fake = FakeAppleTokens(client_id)
    with serving_in_thread(_app(fake)) as url:
        fake.url = url
        yield fake
