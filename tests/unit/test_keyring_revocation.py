"""The origin's key ring and revocations: told by the bus, or finding out on its own."""

import asyncio

from adapters.crypto.eddsa import generate_ed25519
from adapters.crypto.keyring_cache import KeyRingCache
from adapters.memory.key_store import InMemoryKeyStore
from application.keys.manage_keys import RotateKeys
from domain.keys.model import RotationPolicy
from domain.shared.clock import utcnow


async def started_ring() -> tuple[InMemoryKeyStore, RotateKeys, str]:
    store = InMemoryKeyStore()
    rotate = RotateKeys(store, generate_ed25519, RotationPolicy(), utcnow)
    await rotate()
    active = (await store.load()).active
    assert active is not None
    return store, rotate, active.kid


async def revoke_in_store(store: InMemoryKeyStore, kid: str) -> None:
    ring = await store.load()
    ring.revoke(kid, utcnow())
    await store.save(ring)


async def test_a_revocation_found_on_reload_is_announced_once_and_trusted_no_more() -> None:
    store, _, kid = await started_ring()
    announced: list[str] = []

    async def announce(revoked: str) -> None:
        announced.append(revoked)

    cache = KeyRingCache(store, refresh_seconds=60, on_revoked=announce)
    await cache.reload()
    assert cache.public_key(kid) is not None
    await revoke_in_store(store, kid)  # by a process whose bus message this node missed

    await cache.reload()
    await cache.reload()

    assert announced == [kid]
    assert cache.public_key(kid) is None
    assert kid not in {k.kid for k in cache.published()}
    assert cache.active() is None


async def test_a_revocation_heard_on_the_bus_is_not_announced_again() -> None:
    store, _, kid = await started_ring()
    announced: list[str] = []

    async def announce(revoked: str) -> None:
        announced.append(revoked)

    cache = KeyRingCache(store, refresh_seconds=60, on_revoked=announce)
    await cache.reload()
    await revoke_in_store(store, kid)

    await cache.revoke(kid)
    await cache.reload()

    assert announced == []
    assert cache.public_key(kid) is None


async def test_a_kid_revoked_here_stays_untrusted_whatever_a_stale_store_says() -> None:
    store, _, kid = await started_ring()
    cache = KeyRingCache(store, refresh_seconds=60)
    await cache.reload()

    await cache.revoke(kid)  # the store (a lagging replica) still calls it active

    assert cache.public_key(kid) is None
    assert cache.active() is None
    assert kid not in {k.kid for k in cache.published()}


async def test_without_an_active_key_the_ring_looks_again_within_a_second() -> None:
    store, rotate, kid = await started_ring()
    cache = KeyRingCache(store, refresh_seconds=60)
    async with cache.running():
        await revoke_in_store(store, kid)
        await cache.revoke(kid)
        assert cache.active() is None
        await rotate()  # the admin API activates the next key just after revoking
        for _ in range(40):
            if cache.active() is not None:
                break
            await asyncio.sleep(0.05)
        replacement = cache.active()
        assert replacement is not None and replacement.kid != kid
