"""Fake Apple and Google issuers: their own RSA keys, a JWKS served over HTTP on loopback
(in a thread, counting fetches), and ID tokens minted the way each provider writes them."""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support.server import lifespan_done
from tests.support.thread_server import serving_in_thread

APPLE_ISSUER = "https://appleid.apple.com"
GOOGLE_ISSUER = "https://accounts.google.com"
APPLE_CLIENT_ID = "com.example.atelier"
GOOGLE_CLIENT_ID = "1234567890-atelier.apps.googleusercontent.com"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sha256_hex(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class FakeIssuer:
    """One provider: `mint` writes its ID tokens; `jwks_url` publishes its keys."""

    provider: str
    issuer: str
    client_id: str
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    kid: str = field(default_factory=lambda: secrets.token_hex(8))
    jwks_url: str = ""
    fetches: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def jwks(self) -> bytes:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return json.dumps({"keys": [jwk]}).encode()

    def count_fetch(self) -> None:
        with self._lock:
            self.fetches += 1

    def claims(self, subject: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "sub": subject, "iat": now,
            "exp": now + 600,
            # Each token minted is a new one, as at the providers (Google sets a jti):
            # two sign-ins in one second must not share a token, which would be a replay.
            "jti": secrets.token_hex(8)}
        if self.provider == "google":
            claims.update(azp=self.client_id)
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def mint(
        self, subject: str, *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None,
        headers: dict[str, Any] | None = None, **claims: Any,
    ) -> str:
        return jwt.encode(self.claims(subject, **claims), key or self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid, **(headers or {})})

    def apple(self, subject: str, raw_nonce: str, email: str | None = None,
              **claims: Any) -> str:
        """What Sign in with Apple returns: the e-mail on the first sign-in only, booleans
        as strings, the nonce as the SHA-256 hex of the app's raw nonce."""
        extra: dict[str, Any] = {"nonce": sha256_hex(raw_nonce), "nonce_supported": True}
        if email is not None:
            extra.update(email=email, email_verified="true",
                         is_private_email=str(email.endswith("privaterelay.appleid.com")).lower())
        return self.mint(subject, **{**extra, **claims})

    def google(self, subject: str, email: str | None = None, verified: bool = True,
               **claims: Any) -> str:
        extra: dict[str, Any] = {}
        if email is not None:
            extra.update(email=email, email_verified=verified)
        return self.mint(subject, **{**extra, **claims})

    def forged(self, header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
        """A token signed by hand: HMAC-SHA256 with `secret`, or no signature at all."""
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = b"" if secret is None else hmac.new(
            secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _jwks_app(issuer: FakeIssuer) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan_done(receive, send)
            return
        if scope["path"] != "/keys":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        issuer.count_fetch()
        body = issuer.jwks()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"cache-control", b"max-age=3600")]})
        await send({"type": "http.response.body", "body": body})

    return app


@contextmanager
def fake_id_providers() -> Iterator[tuple[FakeIssuer, FakeIssuer]]:
    """(apple, google), each serving its JWKS at `jwks_url` until the block ends."""
    apple = FakeIssuer("apple", APPLE_ISSUER, APPLE_CLIENT_ID)
    google = FakeIssuer("google", GOOGLE_ISSUER, GOOGLE_CLIENT_ID)
    with ExitStack() as servers:
        for issuer in (apple, google):
            issuer.jwks_url = servers.enter_context(serving_in_thread(_jwks_app(issuer))) + "/keys"
        yield apple, google


def provider_settings(apple: FakeIssuer, google: FakeIssuer) -> dict[str, Any]:
    """Mobile API settings that trust the two fakes."""
    return {
        "apple_client_ids": f"{apple.client_id},com.example.atelier.web",
        "apple_jwks_url": apple.jwks_url,
        "google_client_ids": f"{google.client_id},another-client.apps.googleusercontent.com",
        "google_jwks_url": google.jwks_url,
    }
