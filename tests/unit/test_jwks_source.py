"""HttpJwksSource against an in-process origin (httpx.MockTransport): caching, coalescing,
cooldown, negative cache, last-good set, strict key filtering, size bound, revocation."""

import asyncio
import json
from typing import Any

import httpx
import pytest

from adapters.jwks.source import HttpJwksSource, parse_max_age
from tests.support.gateway import ISSUER, new_key

URL = "https://origin.test/.well-known/jwks.json"


class Origin:
    def __init__(self, *keys: Any) -> None:
        self.keys = list(keys)
        self.calls = 0
        self.delay = 0.0
        self.fail: int | None = None
        self.body: bytes | None = None
        self.cache_control = "public, max-age=300"

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            return httpx.Response(self.fail)
        body = self.body if self.body is not None else json.dumps(
            {"keys": [k.jwk() for k in self.keys]}).encode()
        return httpx.Response(200, content=body, headers={"cache-control": self.cache_control})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def source(origin: Origin, clock: Clock, **options: Any) -> HttpJwksSource:
    client = httpx.AsyncClient(transport=httpx.MockTransport(origin))
    return HttpJwksSource(client, URL, ISSUER, monotonic=clock, **options)


def test_max_age_parsing() -> None:
    assert parse_max_age("public, max-age=60") == 60
    assert parse_max_age("max-age=\"5\", must-revalidate") == 5
    assert parse_max_age("s-maxage=7") == 7
    assert parse_max_age("no-store, max-age=60") is None
    assert parse_max_age(None) is None
    assert parse_max_age("max-age=abc") is None


async def test_keys_are_cached_by_issuer_and_kid() -> None:
    key, clock = new_key(), Clock()
    jwks = source(Origin(key), clock)
    assert jwks.public_key(key.kid) is None
    assert await jwks.refresh()
    assert jwks.public_key(key.kid) is not None
    assert jwks._keys.keys() == {(ISSUER, key.kid)}
    assert jwks.loaded


async def test_concurrent_misses_share_one_fetch_and_a_cooldown_follows() -> None:
    old, new, clock = new_key(), new_key(), Clock()
    origin = Origin(old)
    jwks = source(origin, clock, refetch_cooldown=30)
    await jwks.refresh()
    origin.keys.append(new)
    origin.delay = 0.05

    clock.now += 31
    found = await asyncio.gather(*(jwks.refresh_for(new.kid) for _ in range(50)))
    assert all(found) and origin.calls == 2

    unknown = await asyncio.gather(*(jwks.refresh_for(f"random-{i}") for i in range(200)))
    assert not any(unknown) and origin.calls == 2  # within the cooldown: no fetch at all

    clock.now += 31
    assert not await jwks.refresh_for("random-x")
    assert origin.calls == 3
    assert not await jwks.refresh_for("random-x")  # negatively cached
    clock.now += 31
    assert not await jwks.refresh_for("random-1")
    assert origin.calls == 4


async def test_the_last_good_set_survives_an_origin_that_is_down_or_answers_garbage() -> None:
    key, clock = new_key(), Clock()
    origin = Origin(key)
    jwks = source(origin, clock, refetch_cooldown=0)
    await jwks.refresh()
    for status in (500, 404, 302):
        origin.fail = status
        assert not await jwks.refresh()
        assert jwks.public_key(key.kid) is not None
    origin.fail = None
    for garbage in (b"<html>", b"[]", b'{"keys": "x"}', b'{"keys": [{"kty": "RSA"}]}', b"\xff"):
        origin.body = garbage
        assert not await jwks.refresh()
        assert jwks.public_key(key.kid) is not None


async def test_a_connection_error_keeps_the_last_good_set() -> None:
    key, clock, origin = new_key(), Clock(), None
    origin = Origin(key)
    calls = {"n": 0}

    async def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] > 1:
            raise httpx.ConnectError("origin down")
        return await origin(request)

    jwks = HttpJwksSource(httpx.AsyncClient(transport=httpx.MockTransport(flaky)), URL, ISSUER,
                          monotonic=clock)
    assert await jwks.refresh()
    assert not await jwks.refresh()
    assert jwks.public_key(key.kid) is not None


@pytest.mark.parametrize("change", [
    {"kty": "EC"}, {"crv": "X25519"}, {"use": "enc"}, {"alg": "ES256"}, {"alg": None},
    {"use": None}, {"kid": "chosen-by-attacker"}, {"x": "AAAA"}, {"d": "secret"},
])
async def test_only_ed25519_signing_keys_whose_kid_is_their_thumbprint_are_accepted(
    change: dict[str, Any],
) -> None:
    good, bad, clock = new_key(), new_key(), Clock()
    origin = Origin()
    jwk = {**bad.jwk(), **change}
    origin.body = json.dumps({"keys": [good.jwk(), {k: v for k, v in jwk.items() if v}]}).encode()
    jwks = source(origin, clock)
    assert await jwks.refresh()
    assert jwks.kids == [good.kid]


async def test_responses_are_size_bounded() -> None:
    key, clock = new_key(), Clock()
    origin = Origin(key)
    jwks = source(origin, clock, max_bytes=1024)
    origin.body = json.dumps({"keys": [key.jwk()], "pad": "x" * 5000}).encode()
    assert not await jwks.refresh()
    assert not jwks.loaded


async def test_the_refresh_follows_max_age() -> None:
    key, clock = new_key(), Clock()
    origin = Origin(key)
    origin.cache_control = "max-age=2"
    jwks = source(origin, clock, min_refresh=0.0)
    await jwks.refresh()
    assert jwks._next_refresh == clock.now + 2


async def test_a_revoked_kid_is_dropped_and_never_taken_back() -> None:
    key, other, clock = new_key(), new_key(), Clock()
    origin = Origin(key, other)
    jwks = source(origin, clock, refetch_cooldown=0)
    await jwks.refresh()
    jwks.revoke(key.kid)
    assert jwks.public_key(key.kid) is None
    await jwks.refresh()
    assert jwks.public_key(key.kid) is None and jwks.public_key(other.kid) is not None
    assert not await jwks.refresh_for(key.kid)
