"""Ed25519 edge cases an attacker can reach: keys of small order, and signatures that are
not the one RFC 8032 signature of a token.

A public key of small order (the identity point and its seven torsion cousins) satisfies
the verification equation for `R` = identity, `S` = 0 on one message in 8 or more often, with no
private key at all. A JWKS that ever offered one (a misconfigured or tampered origin) would
let anybody mint connection tokens. The gateway refuses such keys when it reads the JWKS,
and the verifier refuses such signatures even when handed such a key.
"""

import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.crypto.eddsa import EdDSASigner, EdDSAVerifier, InvalidToken
from adapters.jwks.source import JwksError, parse_jwks
from adapters.memory.bus import InMemoryRealtimeBus
from domain.keys.model import b64url, thumbprint
from tests.support.gateway import (
    ISSUER,
    CountingOrigin,
    claims,
    gateway_settings,
    handshake,
    new_key,
    running_gateway,
    sign,
)
from tests.support.server import serving

L = 2**252 + 27742317777372353535851937790883648493  # order of the Ed25519 group
IDENTITY = bytes.fromhex("01" + "00" * 31)
SMALL_ORDER_POINTS = [  # every point of order 1, 2, 4 or 8, canonically encoded
    IDENTITY,
    bytes.fromhex("ec" + "ff" * 30 + "7f"),  # y = p - 1: order 2
    bytes(32),  # y = 0: order 4
    bytes(31) + b"\x80",
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
]


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def forged_without_a_private_key(public: bytes, kid: str, subject: str) -> str:
    """A token whose signature (R = identity, S = 0) satisfies [S]B = R + [k]A for a key A of
    order dividing 8: the jti is varied until k = H(R || A || M) mod L is a multiple of 8."""
    head = segment({"alg": "EdDSA", "typ": "JWT", "kid": kid})
    for attempt in range(10_000):
        signing_input = f"{head}.{segment(claims(subject, jti=f'forged-{attempt}'))}"
        k = int.from_bytes(hashlib.sha512(IDENTITY + public + signing_input.encode()).digest(),
                           "little") % L
        if k % 8 == 0:
            return f"{signing_input}.{b64url(IDENTITY + bytes(32))}"
    raise AssertionError("no message found")  # one in eight qualifies


def verifier(keys: dict[str, Ed25519PublicKey]) -> EdDSAVerifier:
    return EdDSAVerifier(keys.get, ISSUER, "realtime", "JWT", 5.0, max_lifetime=3600)


def jwk(public: bytes) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
            "x": b64url(public), "kid": thumbprint(public)}


@pytest.mark.parametrize("point", SMALL_ORDER_POINTS, ids=lambda p: p.hex()[:8] + p.hex()[-2:])
def test_a_small_order_key_vouches_for_no_token(point: bytes) -> None:
    token = forged_without_a_private_key(point, "weak", "mallory")
    with pytest.raises(InvalidToken) as refused:
        verifier({"weak": Ed25519PublicKey.from_public_bytes(point)}).verify(token)
    assert refused.value.reason == "bad signature"


def test_the_same_verifier_accepts_a_real_signature() -> None:
    key = new_key()
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    assert verifier({key.kid: public}).verify(sign(key, claims("alice")))["sub"] == "alice"


def test_a_jwks_offering_a_small_order_key_only_yields_its_real_keys() -> None:
    good = new_key()
    document = {"keys": [jwk(p) for p in SMALL_ORDER_POINTS] + [jwk(good.public_key)]}
    assert set(parse_jwks(json.dumps(document).encode())) == {good.kid}
    with pytest.raises(JwksError):
        parse_jwks(json.dumps({"keys": [jwk(IDENTITY)]}).encode())


def test_tokens_carry_the_rfc_8032_signature_and_older_tokens_still_verify() -> None:
    """Signatures are deterministic: the one `cryptography` (any RFC 8032 signer) makes
    for the same bytes, so clients verifying with any library, and tokens issued before,
    agree with ours."""
    key = new_key()
    private = Ed25519PrivateKey.from_private_bytes(key.private_key)
    token = EdDSASigner(lambda: key).sign(claims("alice"), "JWT")
    signing_input, _, signature = token.rpartition(".")
    assert b64url(private.sign(signing_input.encode())) == signature
    payload = segment(claims("bob"))
    head = token.split(".")[0]
    elsewhere = f"{head}.{payload}.{b64url(private.sign(f'{head}.{payload}'.encode()))}"
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    assert verifier({key.kid: public}).verify(elsewhere)["sub"] == "bob"


async def test_the_gateway_refuses_a_token_vouched_for_by_a_small_order_key() -> None:
    good = new_key()
    document = {"keys": [jwk(good.public_key), jwk(IDENTITY)]}
    origin = CountingOrigin(body=json.dumps(document).encode())
    async with (
        serving(origin) as origin_url,
        running_gateway(gateway_settings(origin_url + "/.well-known/jwks.json"),
                        InMemoryRealtimeBus()) as (url, _),
    ):
        assert await handshake(url, sign(good, claims("alice"))) == 101
        forged = forged_without_a_private_key(IDENTITY, thumbprint(IDENTITY), "mallory")
        assert await handshake(url, forged) == 403
