"""Session (refresh family) and transfer-code contract, on memory, SQLite and PostgreSQL."""

import asyncio
import contextlib
from datetime import timedelta

import pytest

from domain.sessions.model import RefreshFamily
from domain.sessions.tokens import hash_token
from domain.shared.errors import ConcurrentUpdate, Conflict, NotFound
from domain.transfers.model import TransferCode
from tests.contract.conftest import T0, RepoBackend, guest

DAY, REUSE = timedelta(days=1), timedelta(seconds=10)
DEVICE = "device-0001"


async def _with_user(backend: RepoBackend) -> str:
    user = guest()
    async with backend.uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user.id


async def _started(backend: RepoBackend, user_id: str) -> tuple[RefreshFamily, str]:
    family, token = RefreshFamily.start(f"{user_id}-fam", user_id, DEVICE, T0, 30 * DAY)
    async with backend.uow() as uow:
        await uow.sessions.add(family)
        await uow.commit()
    return family, token


async def _rotate(backend: RepoBackend, family_id: str, token: str, minutes: int) -> str:
    async with backend.uow() as uow:
        family = await uow.sessions.get(family_id)
        assert family is not None
        generation = family.generation
        successor = family.refresh(token, DEVICE, T0 + timedelta(minutes=minutes), REUSE)
        await uow.sessions.update(family, generation)
        await uow.commit()
    return successor


async def test_add_and_get_round_trip(repo_backend: RepoBackend) -> None:
    family, _ = await _started(repo_backend, await _with_user(repo_backend))
    async with repo_backend.uow() as uow:
        stored = await uow.sessions.get(family.id)
        assert stored == family
        # Sealed tokens name their family: nothing is recorded per token any more.
        assert await uow.sessions.get_by_token_hash(family.current_hash) is None
        assert await uow.sessions.get("no-such-family") is None


async def test_the_family_row_keeps_the_current_and_previous_hash(
    repo_backend: RepoBackend,
) -> None:
    family, first = await _started(repo_backend, await _with_user(repo_backend))
    second = await _rotate(repo_backend, family.id, first, 1)
    third = await _rotate(repo_backend, family.id, second, 2)
    async with repo_backend.uow() as uow:
        stored = await uow.sessions.get(family.id)
        assert stored is not None and stored.generation == 2
        assert stored.current_hash == hash_token(third)
        assert stored.previous_hash == hash_token(second)
        assert stored.rotation_nonce is not None and isinstance(stored.rotation_nonce, bytes)
        assert stored.rotated_at == T0 + timedelta(minutes=2)
        for token in (third, second, first, "never issued"):  # no row per issued token
            assert await uow.sessions.get_by_token_hash(hash_token(token)) is None


async def test_update_checks_the_generation(repo_backend: RepoBackend) -> None:
    family, token = await _started(repo_backend, await _with_user(repo_backend))
    async with repo_backend.uow() as uow:
        stale = await uow.sessions.get(family.id)
    await _rotate(repo_backend, family.id, token, 1)
    assert stale is not None
    stale.refresh(token, DEVICE, T0 + timedelta(minutes=1), REUSE)
    async with repo_backend.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.sessions.update(stale, 0)
        with pytest.raises(ConcurrentUpdate):
            await uow.sessions.update(RefreshFamily.start("ghost", "u", DEVICE, T0, DAY)[0], 0)
    async with repo_backend.uow() as uow:
        stored = await uow.sessions.get(family.id)
        assert stored is not None and stored.generation == 1
        assert stored.current_hash != stale.current_hash
        assert await uow.sessions.get_by_token_hash(stale.current_hash) is None


async def test_revocation_is_sticky(repo_backend: RepoBackend) -> None:
    family, token = await _started(repo_backend, await _with_user(repo_backend))
    async with repo_backend.uow() as uow:
        read_before_logout = await uow.sessions.get(family.id)
    async with repo_backend.uow() as uow:
        loaded = await uow.sessions.get(family.id)
        assert loaded is not None
        loaded.revoke(T0 + timedelta(minutes=1), "logout")
        await uow.sessions.update(loaded, loaded.generation)  # revoking keeps the generation
        await uow.commit()
    assert read_before_logout is not None
    # A rotation that read the family before the logout still matches the generation...
    read_before_logout.refresh(token, DEVICE, T0 + timedelta(minutes=2), REUSE)
    async with repo_backend.uow() as uow:
        await uow.sessions.update(read_before_logout, 0)
        await uow.commit()
    # ...but never brings the family back.
    async with repo_backend.uow() as uow:
        stored = await uow.sessions.get(family.id)
        assert stored is not None and not stored.active
        assert stored.revoked_at == T0 + timedelta(minutes=1)
        assert stored.revoked_reason == "logout"
        # A later revocation does not overwrite the first one either.
        stored.revoked_at, stored.revoked_reason = None, None
        stored.revoke(T0 + timedelta(minutes=5), "reuse_detected")
        await uow.sessions.update(stored, stored.generation)
        await uow.commit()
    async with repo_backend.uow() as uow:
        stored = await uow.sessions.get(family.id)
        assert stored is not None
        assert (stored.revoked_at, stored.revoked_reason) == (
            T0 + timedelta(minutes=1), "logout")


async def test_live_for_user_excludes_revoked_and_expired(repo_backend: RepoBackend) -> None:
    user_id = await _with_user(repo_backend)
    live, _ = RefreshFamily.start("live", user_id, DEVICE, T0, 30 * DAY)
    revoked, _ = RefreshFamily.start("revoked", user_id, DEVICE, T0, 30 * DAY)
    revoked.revoke(T0, "logout")
    expired, _ = RefreshFamily.start("expired", user_id, DEVICE, T0 - 40 * DAY, 30 * DAY)
    async with repo_backend.uow() as uow:
        for family in (live, revoked, expired):
            await uow.sessions.add(family)
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert [f.id for f in await uow.sessions.live_for_user(user_id, T0)] == ["live"]
        assert await uow.sessions.live_for_user(user_id, T0 + 31 * DAY) == []
        assert await uow.sessions.live_for_user("someone-else", T0) == []


async def test_concurrent_rotations_have_one_winner(repo_backend: RepoBackend) -> None:
    family, token = await _started(repo_backend, await _with_user(repo_backend))
    both_read = asyncio.Event()
    readers = 0

    async def rotate() -> str:
        nonlocal readers
        async with repo_backend.uow() as uow:
            loaded = await uow.sessions.get(family.id)
            assert loaded is not None
            readers += 1
            if readers == 2:
                both_read.set()
            # Memory and SQLite serialise whole transactions: the other cannot read yet.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both_read.wait(), 0.5)
            if loaded.generation != 0:
                return "observed"
            loaded.refresh(token, DEVICE, T0 + timedelta(minutes=1), REUSE)
            try:
                await uow.sessions.update(loaded, 0)
            except ConcurrentUpdate:
                return "conflict"
            await uow.commit()
            return "rotated"

    outcomes = sorted(await asyncio.gather(rotate(), rotate()))
    assert outcomes in (["conflict", "rotated"], ["observed", "rotated"])
    if repo_backend.name == "postgres":
        assert outcomes == ["conflict", "rotated"]
    async with repo_backend.uow() as uow:
        stored = await uow.sessions.get(family.id)
        assert stored is not None and stored.generation == 1
        assert stored.previous_hash == family.current_hash  # the token both presented


async def test_transfer_codes(repo_backend: RepoBackend) -> None:
    user_id = await _with_user(repo_backend)
    older, _ = TransferCode.issue(user_id, T0, DAY)
    newer, _ = TransferCode.issue(user_id, T0 + timedelta(hours=1), DAY)
    async with repo_backend.uow() as uow:
        await uow.transfer_codes.add(older)
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.transfer_codes.get(older.code_hash) == older
        assert await uow.transfer_codes.get("0" * 64) is None
        assert await uow.transfer_codes.live_for_user(user_id, T0) == [older]
        assert await uow.transfer_codes.live_for_user(user_id, T0 + DAY) == []
        with pytest.raises(Conflict):  # one open code per user, expired or not
            await uow.transfer_codes.add(newer)
    at = T0 + timedelta(hours=2)
    async with repo_backend.uow() as uow:
        await uow.transfer_codes.void_open_for_user(user_id, T0 + timedelta(hours=1))
        await uow.transfer_codes.add(newer)
        await uow.commit()
    async with repo_backend.uow() as uow:
        stored = await uow.transfer_codes.get(older.code_hash)
        assert stored is not None and stored.voided_at == T0 + timedelta(hours=1)
        assert await uow.transfer_codes.use(older.code_hash, at) is None
        assert await uow.transfer_codes.live_for_user(user_id, at) == [newer]
        used = await uow.transfer_codes.use(newer.code_hash, T0 + timedelta(hours=3))
        assert used is not None and used.used_at == T0 + timedelta(hours=3)
        assert await uow.transfer_codes.use(newer.code_hash, T0 + timedelta(hours=3)) is None
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.transfer_codes.live_for_user(user_id, T0 + timedelta(hours=3)) == []
        redeemed = await uow.transfer_codes.get(newer.code_hash)
        assert redeemed is not None and redeemed.used_at == T0 + timedelta(hours=3)
        with pytest.raises(NotFound):
            await uow.transfer_codes.update(TransferCode("f" * 64, user_id, T0, T0 + DAY))


async def test_an_expired_transfer_code_is_not_used(repo_backend: RepoBackend) -> None:
    user_id = await _with_user(repo_backend)
    code, _ = TransferCode.issue(user_id, T0, DAY)
    async with repo_backend.uow() as uow:
        await uow.transfer_codes.add(code)
        assert await uow.transfer_codes.use(code.code_hash, T0 + DAY) is None
        await uow.commit()
