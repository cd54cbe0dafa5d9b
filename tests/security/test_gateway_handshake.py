"""Attacks on the edge gateway's handshake, over real sockets (uvicorn + wsproto).

Every forged, tampered or misdirected connection token is refused AT THE HANDSHAKE (an HTTP
403 instead of `101 Switching Protocols`, so no socket opens), never with a 500, the key
hints a token carries (jku, x5u, jwk, x5c) are never followed, and the gateway still serves
good tokens afterwards.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.memory.bus import InMemoryRealtimeBus
from domain.keys.model import SigningKey, b64url
from tests.support.gateway import (
    ISSUER,
    CountingOrigin,
    claims,
    gateway_settings,
    handshake,
    new_key,
    next_frame,
    running_gateway,
    sign,
    socket,
)
from tests.support.server import serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Order of the Ed25519 group (RFC 8032): S must be < L.
L = 2**252 + 27742317777372353535851937790883648493


@dataclass
class Rig:
    url: str
    key: SigningKey
    origin: CountingOrigin
    attacker: CountingOrigin
    attacker_url: str
    bus: InMemoryRealtimeBus


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig() -> AsyncIterator[Rig]:
    key = new_key()
    origin, attacker = CountingOrigin(keys=[key]), CountingOrigin(keys=[new_key()])
    bus = InMemoryRealtimeBus()
    async with (
        serving(origin) as origin_url,
        serving(attacker) as attacker_url,
        running_gateway(gateway_settings(origin_url + "/.well-known/jwks.json"), bus) as (url, _),
    ):
        yield Rig(url, key, origin, attacker, attacker_url, bus)


def segment(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    return b64url(raw)


def forge(header: dict[str, Any], payload: dict[str, Any], private: bytes | None) -> str:
    """A token with any header, Ed25519-signed with `private` (or unsigned)."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    if private is None:
        return signing_input + "."
    signature = Ed25519PrivateKey.from_private_bytes(private).sign(signing_input.encode())
    return f"{signing_input}.{b64url(signature)}"


def hs256(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{segment(header)}.{segment(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def header(key: SigningKey, **extra: Any) -> dict[str, Any]:
    return {"alg": "EdDSA", "typ": "JWT", "kid": key.kid, **extra}


async def refused(rig: Rig, token: str) -> None:
    status = await handshake(rig.url, token)
    assert status == 403, f"expected a refused handshake, got {status}"


async def test_a_good_token_opens_a_socket_that_receives_its_channels(rig: Rig) -> None:
    async with socket(rig.url, sign(rig.key, claims("alice"))) as ws:
        await rig.bus.publish("user:bob", {"n": 0})
        await rig.bus.publish("user:alice", {"n": 1})
        assert await next_frame(ws) == {"channel": "user:alice", "data": {"n": 1}}


@pytest.mark.parametrize("with_signature", [False, True])
async def test_alg_none_is_refused(rig: Rig, with_signature: bool) -> None:
    forged = forge({"alg": "none", "typ": "JWT", "kid": rig.key.kid}, claims(), None)
    if with_signature:
        forged += b64url(secrets.token_bytes(64))
    await refused(rig, forged)
    await refused(rig, forge({"alg": "None", "kid": rig.key.kid}, claims(), None))


@pytest.mark.parametrize("form", ["pem", "raw", "jwk", "x"])
async def test_hs256_signed_with_the_public_key_is_refused(rig: Rig, form: str) -> None:
    public = Ed25519PrivateKey.from_private_bytes(rig.key.private_key).public_key()
    secret = {
        "pem": public.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo),
        "raw": rig.key.public_key,
        "jwk": json.dumps(rig.key.jwk()).encode(),
        "x": rig.key.jwk()["x"].encode(),
    }[form]
    await refused(rig, hs256({"alg": "HS256", "typ": "JWT", "kid": rig.key.kid}, claims(), secret))


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "Ed25519", "eddsa", "EdDSA "])
async def test_other_algorithms_with_an_ed25519_kid_are_refused(rig: Rig, alg: str) -> None:
    await refused(rig, forge({"alg": alg, "typ": "JWT", "kid": rig.key.kid}, claims(),
                             rig.key.private_key))


async def test_a_tampered_payload_is_refused(rig: Rig) -> None:
    head, _, signature = sign(rig.key, claims("alice")).split(".")
    await refused(rig, f"{head}.{segment(claims('mallory'))}.{signature}")
    elevated = claims("alice", channels=["user:alice", "broadcast", "user:bob"])
    await refused(rig, f"{head}.{segment(elevated)}.{signature}")


async def test_a_non_canonical_signature_is_refused(rig: Rig) -> None:
    token = sign(rig.key, claims())
    head, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    s = int.from_bytes(raw[32:], "little")
    malleated = raw[:32] + (s + L).to_bytes(32, "little")
    await refused(rig, f"{head}.{payload}.{b64url(malleated)}")
    # The last base64 character carries 2 unused bits: same bytes, different text.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    for twin in (alphabet[last | 1], alphabet[last | 2], alphabet[last | 3]):
        if twin != signature[-1]:
            await refused(rig, f"{head}.{payload}.{signature[:-1]}{twin}")
    await refused(rig, f"{head}.{payload}.{signature}==")
    await refused(rig, f"{head}.{payload}.{signature[:-2]}")
    assert await handshake(rig.url, token) == 101


@pytest.mark.parametrize("kid", [
    "../../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "k" * 10_240, "' OR '1'='1' --",
    "1; DROP TABLE signing_keys;", "ключ🔑\u202e", "", None, 42, ["a"], {"k": 1},
])
async def test_hostile_or_missing_kids_are_refused(rig: Rig, kid: Any) -> None:
    head = {"alg": "EdDSA", "typ": "JWT"} if kid is None else {
        "alg": "EdDSA", "typ": "JWT", "kid": kid}
    status = await handshake(rig.url, forge(head, claims(), rig.key.private_key))
    # A 10 KB kid makes a token over the size limit; the gateway refuses it unparsed.
    assert status == 403


@pytest.mark.parametrize("hint", ["jku", "x5u", "jwk", "x5c", "x5t"])
async def test_key_hints_in_the_header_are_never_followed(rig: Rig, hint: str) -> None:
    evil = rig.attacker.keys[0]
    value: Any = {
        "jku": f"{rig.attacker_url}/jwks.json", "x5u": f"{rig.attacker_url}/cert.pem",
        "jwk": evil.jwk(), "x5c": [base64.b64encode(secrets.token_bytes(64)).decode()],
        "x5t": b64url(secrets.token_bytes(20)),
    }[hint]
    before = len(rig.attacker.requests)
    # Signed by the attacker's key under its own kid, and under ours: both refused.
    await refused(rig, forge(header(evil, **{hint: value}), claims(), evil.private_key))
    await refused(rig, forge(header(rig.key, **{hint: value}), claims(), rig.key.private_key))
    await asyncio.sleep(0.2)
    assert len(rig.attacker.requests) == before == 0


async def test_unknown_crit_is_refused(rig: Rig) -> None:
    await refused(rig, forge(header(rig.key, crit=["exp-policy"], **{"exp-policy": 1}),
                             claims(), rig.key.private_key))
    await refused(rig, forge(header(rig.key, crit=[]), claims(), rig.key.private_key))


class FromNow(int):
    """A time claim relative to when the test runs (not to when it was collected)."""


@pytest.mark.parametrize("change", [
    {"exp": None}, {"iat": None}, {"sub": None}, {"sub": ""},
    {"exp": FromNow(-30)}, {"exp": FromNow(-3600)},
    {"iat": FromNow(120)}, {"nbf": FromNow(120)},
    {"exp": "9999999999"}, {"exp": True}, {"iat": [1]},
])
async def test_missing_expired_or_future_times_are_refused(rig: Rig, change: Any) -> None:
    values = claims()
    for name, value in change.items():
        if isinstance(value, FromNow):
            value = int(time.time()) + int(value)
        values.pop(name) if value is None else values.__setitem__(name, value)
    await refused(rig, sign(rig.key, values))


@pytest.mark.parametrize("issuer", [
    None, "", ISSUER + "/", ISSUER.replace("https://", "http://"), ISSUER + ".evil.example",
    ISSUER + "/evil", ISSUER.upper(), "https://evil.example", ISSUER + "\u0000", [ISSUER],
])
async def test_wrong_or_look_alike_issuers_are_refused(rig: Rig, issuer: Any) -> None:
    await refused(rig, sign(rig.key, claims(iss=issuer) if issuer is not None else {
        k: v for k, v in claims().items() if k != "iss"}))


@pytest.mark.parametrize("audience", [
    None, "atelier-mobile", "Realtime", "realtime ", ["atelier-mobile"], [], "",
])
async def test_wrong_or_missing_audience_is_refused(rig: Rig, audience: Any) -> None:
    values = claims(aud=audience) if audience is not None else {
        k: v for k, v in claims().items() if k != "aud"}
    await refused(rig, sign(rig.key, values))


async def test_an_access_token_is_not_a_connection_token(rig: Rig) -> None:
    access = claims(aud="atelier-mobile", sid="s1", did="IDFV-1", kind="member")
    del access["channels"]
    await refused(rig, sign(rig.key, access, typ="at+jwt"))
    await refused(rig, sign(rig.key, {**access, "aud": "realtime"}, typ="at+jwt"))
    await refused(rig, sign(rig.key, {**access, "channels": ["broadcast"]}, typ="at+jwt"))


@pytest.mark.parametrize("make", [
    lambda t: ".".join(t.split(".")[:2]),
    lambda t: t + ".e30",
    lambda t: "a.b.c.d.e",
    lambda t: "!!!." + ".".join(t.split(".")[1:]),
    lambda t: t.split(".")[0] + ".%%%." + t.split(".")[2],
    lambda t: segment(b"not json") + "." + ".".join(t.split(".")[1:]),
    lambda t: t.split(".")[0] + "." + segment(b"[1,2]") + "." + t.split(".")[2],
    lambda t: segment([{"alg": "EdDSA"}]) + "." + ".".join(t.split(".")[1:]),
    lambda t: "..",
    lambda t: "",
    lambda t: "%20" + t,
    lambda t: t.replace(".", "%2E%2E", 1),
])
async def test_malformed_tokens_are_refused(rig: Rig, make: Any) -> None:
    await refused(rig, make(sign(rig.key, claims())))


async def test_malformed_queries_are_refused(rig: Rig) -> None:
    good = sign(rig.key, claims())
    for query in ("", "?", "?token=", f"?token={good}&token={good}", "?tok=" + good,
                  "?token=%ff%fe", "?token=" + "a" * 9000):
        assert await handshake(rig.url, query=query) == 403


async def test_oversized_tokens_are_refused(rig: Rig) -> None:
    padded = sign(rig.key, claims(pad="x" * 5000))
    await refused(rig, padded)
    huge = sign(rig.key, claims(pad="x" * 7000))
    assert await handshake(rig.url, huge) == 403


async def test_channels_a_token_cannot_grant_are_ignored(rig: Rig) -> None:
    greedy = claims("alice", channels=["user:alice", "user:bob", "internal:keys", "admin"])
    async with socket(rig.url, sign(rig.key, greedy)) as ws:
        await rig.bus.publish("user:bob", {"secret": 1})
        await rig.bus.publish("admin", {"secret": 2})
        await rig.bus.publish("user:alice", {"mine": 3})
        assert await next_frame(ws) == {"channel": "user:alice", "data": {"mine": 3}}
    await refused(rig, sign(rig.key, claims(channels="broadcast")))


async def test_a_flood_of_random_kids_costs_the_origin_at_most_one_fetch() -> None:
    key = new_key()
    origin = CountingOrigin(keys=[key])
    cooldown = 2.0
    async with (
        serving(origin) as origin_url,
        running_gateway(gateway_settings(origin_url + "/jwks",
                                         jwks_refetch_cooldown_seconds=cooldown)) as (url, _),
    ):
        assert len(origin.requests) == 1
        await asyncio.sleep(cooldown + 0.2)
        started = time.monotonic()
        gate = asyncio.Semaphore(50)

        async def attempt() -> int:
            async with gate:
                kid = b64url(secrets.token_bytes(32))
                forged = forge({"alg": "EdDSA", "typ": "JWT", "kid": kid}, claims(),
                               key.private_key)
                return await handshake(url, forged)

        statuses = await asyncio.gather(*(attempt() for _ in range(500)))
        elapsed = time.monotonic() - started

        assert set(statuses) == {403}
        allowed = 1 + int(elapsed // cooldown)
        assert len(origin.requests) - 1 <= allowed, (origin.requests, elapsed)
        assert await handshake(url, sign(key, claims())) == 101


async def test_the_gateway_still_serves_good_tokens_afterwards(rig: Rig) -> None:
    async with socket(rig.url, sign(rig.key, claims("carol"))) as ws:
        await rig.bus.publish("broadcast", {"still": "here"})
        assert await next_frame(ws) == {"channel": "broadcast", "data": {"still": "here"}}
    assert len(rig.origin.requests) <= 2
    assert rig.attacker.requests == []


async def test_tokens_never_reach_the_server_logs(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    token = sign(rig.key, claims())
    with caplog.at_level("INFO"):
        assert await handshake(rig.url, token) == 101
        assert await handshake(rig.url, token + "x") == 403
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "WebSocket" in text and "token=[redacted]" in text
    assert token.split(".")[2][:20] not in text and token.split(".")[0] not in text
