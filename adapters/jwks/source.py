"""`HttpJwksSource`: the origin's Ed25519 public keys, fetched from one fixed JWKS URL.

Verification never waits on the network: `public_key(kid)` is a dictionary lookup. The set
is refreshed in the background as its `Cache-Control: max-age` runs out; an unknown kid may
trigger one coalesced refetch, at most once per cooldown, so a flood of random kids cannot
stampede the origin. The last good set is kept while the origin is down or answers garbage.
Until a first set has arrived (the origin started after us), fetches are retried with a
short backoff, and `wait_loaded` lets a handshake wait for it rather than be refused.
"""

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import random
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_core_ed25519_is_valid_point

from domain.keys.model import thumbprint

log = logging.getLogger("atelier.jwks")

MAX_KEYS = 32
K = TypeVar("K")
FIRST_FETCH_BACKOFF = (0.1, 0.2, 0.4, 0.8, 1.0)  # then every second until a first set
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d{1,9})\"?", re.IGNORECASE)


class JwksError(Exception):
    """The JWKS document could not be fetched or is not acceptable."""


def parse_max_age(cache_control: str | None) -> float | None:
    if not cache_control or "no-store" in cache_control.lower():
        return None
    found = _MAX_AGE.search(cache_control)
    return float(found.group(1)) if found else None


def _ed25519_key(jwk: Any) -> tuple[str, Ed25519PublicKey] | None:
    """The (kid, key) of one acceptable JWK: OKP/Ed25519, use sig, alg EdDSA, kid = thumbprint."""
    if not isinstance(jwk, dict):
        return None
    if (jwk.get("kty"), jwk.get("crv"), jwk.get("use"), jwk.get("alg")) != (
        "OKP", "Ed25519", "sig", "EdDSA"
    ) or "d" in jwk:
        return None
    x, kid = jwk.get("x"), jwk.get("kid")
    if not isinstance(x, str) or not isinstance(kid, str) or len(x) != 43:
        return None
    try:
        raw = base64.urlsafe_b64decode(x + "=")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32 or thumbprint(raw) != kid:
        return None
    if not crypto_core_ed25519_is_valid_point(raw):  # small order, or not on the curve
        return None
    return kid, Ed25519PublicKey.from_public_bytes(raw)


def parse_key_set(
    body: bytes, parse_key: Callable[[Any], tuple[str, K] | None], kind: str
) -> dict[str, K]:
    """A JWKS document's acceptable keys by kid (`parse_key` answers None for the others);
    a document with keys but none acceptable is an error, not an empty set."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise JwksError("not JSON") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or len(keys) > MAX_KEYS:
        raise JwksError("no usable `keys` list")
    accepted = dict(filter(None, map(parse_key, keys)))
    if keys and not accepted:
        raise JwksError(f"no acceptable {kind} signing key")
    return accepted


def parse_jwks(body: bytes) -> dict[str, Ed25519PublicKey]:
    return parse_key_set(body, _ed25519_key, "Ed25519")


class HttpJwksSource:
    """Public keys by (issuer, kid) from one fixed JWKS URL; never follows a token's hints."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        issuer: str,
        *,
        refetch_cooldown: float = 30.0,
        default_max_age: float = 300.0,
        min_refresh: float = 1.0,
        max_refresh: float = 3600.0,
        retry_after_failure: float = 5.0,
        max_bytes: int = 64 * 1024,
        negative_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
        parse: Callable[[bytes], Mapping[str, Any]] = parse_jwks,
        on_fetch: Callable[[str], None] | None = None,
    ) -> None:
        self._client, self._url, self._issuer = client, url, issuer
        self._cooldown, self._default_max_age = refetch_cooldown, default_max_age
        self._min_refresh, self._max_refresh = min_refresh, max_refresh
        self._retry_after_failure, self._max_bytes = retry_after_failure, max_bytes
        self._negative_entries, self._now = negative_entries, monotonic
        # Another key type (Apple's and Google's RSA keys) comes with its own `parse`.
        self._parse = parse
        self._on_fetch = on_fetch  # told "ok" or "failed" after each fetch (metrics)
        self._keys: dict[tuple[str, str], Any] = {}
        self._revoked: OrderedDict[str, None] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._inflight: asyncio.Task[bool] | None = None
        self._last_attempt = float("-inf")
        self._next_refresh = 0.0
        self._loaded = False
        self._first_set = asyncio.Event()
        self._failed_first_fetches = 0
        self.fetches = 0

    @property
    def loaded(self) -> bool:
        """A good set has been fetched at least once."""
        return self._loaded

    async def wait_loaded(self, within: float) -> bool:
        """Waits up to `within` seconds for a first good set (fetching now unless a fetch
        has just been tried); True once there is one."""
        if not self._loaded:
            if self._now() - self._last_attempt >= FIRST_FETCH_BACKOFF[0]:
                self._start_fetch()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self._first_set.wait()
        return self._loaded

    @property
    def kids(self) -> list[str]:
        return [kid for _, kid in self._keys]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get((self._issuer, kid))

    def key(self, kid: str) -> object | None:
        """The key under `kid` as `parse` built it."""
        return self._keys.get((self._issuer, kid))

    def revoke(self, kid: str) -> None:
        """A revoked kid is dropped now and never accepted again, whatever a fetch says."""
        self._keys.pop((self._issuer, kid), None)
        self._revoked[kid] = None
        while len(self._revoked) > 1024:
            self._revoked.popitem(last=False)

    async def refresh_for(self, kid: str) -> bool:
        """After a miss on `kid`: refetch once if the cooldown allows; True if now known."""
        if kid in self._revoked:
            return False
        if self.public_key(kid) is not None:
            return True
        now = self._now()
        seen = self._unknown.get(kid)
        if seen is not None and self._loaded and now - seen < self._cooldown:
            return False
        # Until a first set arrives (e.g. the origin started after us), retry sooner.
        cooldown = self._cooldown if self._loaded else min(self._cooldown, 1.0)
        if self._inflight is None and now - self._last_attempt < cooldown:
            self._remember_unknown(kid, now)
            return False
        await self._fetch_coalesced()
        if self.public_key(kid) is not None:
            return True
        self._remember_unknown(kid, self._now())
        return False

    def _remember_unknown(self, kid: str, now: float) -> None:
        self._unknown[kid] = now
        self._unknown.move_to_end(kid)
        while len(self._unknown) > self._negative_entries:
            self._unknown.popitem(last=False)

    def _start_fetch(self) -> "asyncio.Task[bool]":
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._fetch())
            self._inflight.add_done_callback(lambda _: setattr(self, "_inflight", None))
        return self._inflight

    async def _fetch_coalesced(self) -> bool:
        return await asyncio.shield(self._start_fetch())

    async def _fetch(self) -> bool:
        self._last_attempt = self._now()
        self.fetches += 1
        try:
            keys, max_age = await self._download()
        except (JwksError, httpx.HTTPError) as exc:
            log.warning("JWKS fetch failed; keeping the last good set",
                        extra={"fields": {"url": self._url, "error": str(exc)[:200]}})
            self._next_refresh = self._now() + self._retry_delay()
            if self._on_fetch is not None:
                self._on_fetch("failed")
            return False
        if self._on_fetch is not None:
            self._on_fetch("ok")
        self._keys = {
            (self._issuer, kid): key for kid, key in keys.items() if kid not in self._revoked}
        self._unknown.clear()
        self._loaded = True
        self._first_set.set()
        refresh = min(max(max_age, self._min_refresh), self._max_refresh)
        self._next_refresh = self._now() + refresh
        return True

    async def _download(self) -> tuple[Mapping[str, Any], float]:
        async with self._client.stream(
            "GET", self._url, headers={"Accept": "application/json"}
        ) as response:
            if response.status_code != 200:
                raise JwksError(f"status {response.status_code}")
            declared = response.headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > self._max_bytes):
                raise JwksError("response too large")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise JwksError("response too large")
            max_age = parse_max_age(response.headers.get("cache-control"))
        return self._parse(bytes(body)), self._default_max_age if max_age is None else max_age

    def _retry_delay(self) -> float:
        if self._loaded:
            return self._retry_after_failure
        attempt = self._failed_first_fetches
        self._failed_first_fetches += 1
        return min(FIRST_FETCH_BACKOFF[min(attempt, len(FIRST_FETCH_BACKOFF) - 1)],
                   self._retry_after_failure)

    async def refresh(self) -> bool:
        """Fetches now (sharing a fetch already under way); False keeps the last good set."""
        return await self._fetch_coalesced()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["HttpJwksSource"]:
        """Fetches the set and keeps it fresh; a failed first fetch is retried, not fatal."""
        await self.refresh()
        task = asyncio.create_task(self._refresh_forever())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _refresh_forever(self) -> None:
        while True:
            # A little jitter so that many gateways do not refetch in the same second.
            delay = max(0.05, self._next_refresh - self._now()) * random.uniform(0.9, 1.0)
            await asyncio.sleep(delay)
            try:
                await self.refresh()
            except Exception:
                log.exception("JWKS refresh crashed; retrying")
                self._next_refresh = self._now() + self._retry_delay()
