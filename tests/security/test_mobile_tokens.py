"""Forged, tampered, replayed and misused tokens against the mobile API."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from tests.support.phone import API, device_id, new_guest, refresh
from tests.support.stack import Stack


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (json.loads(base64.urlsafe_b64decode(pad(header))),
            json.loads(base64.urlsafe_b64decode(pad(payload))), signature)


def assemble(header: dict, payload: dict, signature: str) -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()),
                     signature])


async def me(stack: Stack, token: str) -> int:
    response = await stack.client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500
    if response.status_code == 401:
        assert response.json()["error"]["code"] in {"invalid_token", "session_ended"}
    return response.status_code


@pytest.fixture
async def victim(stack: Stack) -> dict:
    return await new_guest(stack.client)


async def test_the_genuine_token_works(stack: Stack, victim: dict) -> None:
    assert await me(stack, victim["tokens"]["access_token"]) == 200


async def test_alg_none_is_refused(stack: Stack, victim: dict) -> None:
    header, payload, signature = segments(victim["tokens"]["access_token"])
    assert await me(stack, assemble({**header, "alg": "none"}, payload, "")) == 401
    assert await me(stack, assemble({**header, "alg": "none"}, payload, signature)) == 401


async def test_hs256_signed_with_the_public_key_is_refused(stack: Stack, victim: dict) -> None:
    header, payload, _ = segments(victim["tokens"]["access_token"])
    jwks = (await stack.client.get("/.well-known/jwks.json")).json()["keys"]
    jwk = next(k for k in jwks if k["kid"] == header["kid"])
    raw = base64.urlsafe_b64decode(jwk["x"] + "=")
    pem = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # PyJWT refuses to do this, so the attacker signs by hand.
    for secret in (pem, raw, jwk["x"].encode(), json.dumps(jwk).encode()):
        forged_header = {**header, "alg": "HS256"}
        signing_input = ".".join(
            b64(json.dumps(part).encode()) for part in (forged_header, payload))
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert await me(stack, f"{signing_input}.{b64(mac)}") == 401


async def test_a_key_we_never_issued_is_refused_even_with_our_kid(
    stack: Stack, victim: dict
) -> None:
    header, payload, _ = segments(victim["tokens"]["access_token"])
    attacker = Ed25519PrivateKey.generate()
    pem = attacker.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    forged = jwt.encode(payload, pem, algorithm="EdDSA",
                        headers={"kid": header["kid"], "typ": "at+jwt"})
    assert await me(stack, forged) == 401


async def test_tampered_payload_is_refused(stack: Stack, victim: dict) -> None:
    other = await new_guest(stack.client)
    header, payload, signature = segments(victim["tokens"]["access_token"])
    _, other_payload, _ = segments(other["tokens"]["access_token"])
    assert await me(stack, assemble(header, {**payload, "sub": other_payload["sub"],
                                             "sid": other_payload["sid"]}, signature)) == 401
    assert await me(stack, assemble(header, {**payload, "exp": payload["exp"] + 10**6},
                                     signature)) == 401


async def test_a_connection_token_is_not_an_access_token(stack: Stack, victim: dict) -> None:
    issued = await stack.client.post(
        f"{API}/realtime/token",
        headers={"Authorization": f"Bearer {victim['tokens']['access_token']}"})
    assert issued.status_code == 200
    assert await me(stack, issued.json()["token"]) == 401
    assert await me(stack, victim["tokens"]["id_token"]) == 401


async def test_expired_and_malformed_tokens_are_refused(stack: Stack, victim: dict) -> None:
    _, payload, _ = segments(victim["tokens"]["access_token"])
    key = await stack.infrastructure.keyring()
    active = key.active()
    private = Ed25519PrivateKey.from_private_bytes(active.private_key)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    old = {**payload, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}
    expired = jwt.encode(old, pem, algorithm="EdDSA",
                         headers={"kid": active.kid, "typ": "at+jwt"})
    assert await me(stack, expired) == 401
    for garbage in ("abc", "a.b", "a.b.c.d", "....", "x" * 5000, "eyJ.eyJ.sig"):
        assert await me(stack, garbage) == 401
    for header_value in ("Basic Zm9vOmJhcg==", "Bearer", "Token abc"):
        response = await stack.client.get(f"{API}/me", headers={"Authorization": header_value})
        assert response.status_code == 401


async def test_guessed_refresh_tokens_are_refused_and_harm_nobody(
    stack: Stack, victim: dict
) -> None:
    phone = device_id()
    for _ in range(5):
        guess = await refresh(stack.client, b64(bytes(32)), phone)
        assert guess.status_code == 401
        assert guess.json()["error"]["code"] == "invalid_refresh_token"
    device = segments(victim["tokens"]["access_token"])[1]["did"]
    assert (await refresh(stack.client, victim["tokens"]["refresh_token"], device)).status_code \
        == 200
