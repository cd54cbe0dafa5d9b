import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.keys.model import thumbprint
from tests.support.phone import new_guest
from tests.support.stack import Stack


async def test_jwks_publishes_verifiable_keys_with_cache_control(stack: Stack) -> None:
    response = await stack.client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    max_age = stack.settings.jwks_max_age_seconds
    assert f"max-age={max_age}" in response.headers["Cache-Control"]
    keys = response.json()["keys"]
    assert keys, "at least the active key is published"
    for key in keys:
        assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}
        assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
        assert (key["use"], key["alg"]) == ("sig", "EdDSA")
        raw = base64.urlsafe_b64decode(key["x"] + "=")
        assert key["kid"] == thumbprint(raw)


async def test_issued_tokens_verify_against_the_published_key(stack: Stack) -> None:
    guest = await new_guest(stack.client)
    header_b64, payload_b64, signature_b64 = guest["tokens"]["access_token"].split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    keys = {k["kid"]: k for k in (await stack.client.get("/.well-known/jwks.json")).json()["keys"]}
    public = Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(keys[header["kid"]]["x"] + "="))
    public.verify(base64.urlsafe_b64decode(signature_b64 + "=="),
                  f"{header_b64}.{payload_b64}".encode())
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": header["kid"]}


async def test_health_and_readiness(stack: Stack) -> None:
    assert (await stack.client.get("/healthz")).json() == {"status": "ok"}
    ready = await stack.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


async def test_every_response_carries_a_request_id(stack: Stack) -> None:
    response = await stack.client.get("/healthz", headers={"X-Request-Id": "trace-123456"})
    assert response.headers["x-request-id"] == "trace-123456"
    assert len((await stack.client.get("/healthz")).headers["x-request-id"]) >= 8
