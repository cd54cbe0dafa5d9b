"""The refresh ledger contract: the Unit of Work ledger on memory, SQLite and PostgreSQL, and
the asyncpg ledger PostgreSQL production uses; plus what only the driver path can break."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import insert

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.sql.engine import create_driver_pool, create_engine
from adapters.sql.refresh_ledger import AsyncpgRefreshLedger
from adapters.sql.tables import refresh_tokens
from adapters.sql.unit_of_work import sql_unit_of_work_factory
from application.auth.refresh_ledger import UnitOfWorkRefreshLedger
from application.ports.sessions import RefreshLedger
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.sessions.model import RefreshFamily
from domain.sessions.tokens import derive_successor, hash_token, new_rotation_nonce
from domain.shared.errors import ConcurrentUpdate
from domain.users.model import SEEN_GRANULARITY
from tests.contract.conftest import T0, guest

DAY, REUSE = timedelta(days=1), timedelta(seconds=10)
DEVICE = "device-0001"


@dataclass
class LedgerCase:
    uow: UnitOfWorkFactory
    ledger: RefreshLedger
    issued_before_sealing: Callable[[str, str, int], Awaitable[None]]
    """(hash, family id, generation): a token of the first format, recorded as the code
    before sealed tokens did."""


POSTGRES = pytest.mark.postgres


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=POSTGRES),
                        pytest.param("postgres-asyncpg", marks=POSTGRES)])
async def case(request: pytest.FixtureRequest) -> AsyncIterator[LedgerCase]:
    if request.param == "memory":
        database = InMemoryDatabase()
        memory = InMemoryUnitOfWorkFactory(database)

        async def remember(digest: str, family_id: str, generation: int) -> None:
            database.tables.token_hashes[digest] = family_id

        yield LedgerCase(memory, UnitOfWorkRefreshLedger(memory), remember)
        return
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        request.getfixturevalue("pg_engine")  # tables emptied after the test
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    uow = sql_unit_of_work_factory(engine)
    pool = await create_driver_pool(url, size=4) if request.param == "postgres-asyncpg" else None

    async def insert_hash(digest: str, family_id: str, generation: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(insert(refresh_tokens).values(
                hash=digest, family_id=family_id, generation=generation, issued_at=T0))

    try:
        ledger = AsyncpgRefreshLedger(pool) if pool else UnitOfWorkRefreshLedger(uow)
        yield LedgerCase(uow, ledger, insert_hash)
    finally:
        if pool is not None:
            await pool.close()
        await engine.dispose()


async def _started(uow_factory: UnitOfWorkFactory, last_seen_hours_ago: int = 0) -> tuple[str, str]:
    user = guest(last_seen=T0 - timedelta(hours=last_seen_hours_ago))
    family, token = RefreshFamily.start(f"{user.id}-fam", user.id, DEVICE, T0, 30 * DAY)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.sessions.add(family)
        await uow.commit()
    return family.id, token


async def _rotate(ledger: RefreshLedger, family_id: str, token: str, minutes: int) -> str:
    found = await ledger.find(family_id)
    assert found is not None
    family, _ = found
    generation = family.generation
    successor = family.refresh(token, DEVICE, T0 + timedelta(minutes=minutes), REUSE)
    await ledger.record(family, generation)
    return successor


async def test_find_answers_the_family_with_its_user(case: LedgerCase) -> None:
    family_id, _ = await _started(case.uow)
    found = await case.ledger.find(family_id)
    assert found is not None
    family, user = found
    async with case.uow() as uow:
        assert family == await uow.sessions.get(family_id)
        assert user == await uow.users.get(family.user_id)
    assert await case.ledger.find("no-such-family") is None


async def test_a_recorded_rotation_is_all_the_family_row_keeps(case: LedgerCase) -> None:
    family_id, first = await _started(case.uow)
    second = await _rotate(case.ledger, family_id, first, 1)
    third = await _rotate(case.ledger, family_id, second, 2)
    async with case.uow() as uow:
        stored = await uow.sessions.get(family_id)
    assert stored is not None and stored.generation == 2
    assert (stored.current_hash, stored.previous_hash) == (hash_token(third), hash_token(second))
    assert stored.rotated_at == T0 + timedelta(minutes=2)
    found = await case.ledger.find(family_id)
    assert found is not None and found[0] == stored
    for token in (third, second, first):  # nothing recorded per issued token
        assert await case.ledger.find_by_first_format(hash_token(token)) is None


async def test_a_stale_generation_records_nothing(case: LedgerCase) -> None:
    family_id, token = await _started(case.uow)
    stale = await case.ledger.find(family_id)
    await _rotate(case.ledger, family_id, token, 1)
    assert stale is not None
    family, _ = stale
    family.refresh(token, DEVICE, T0 + timedelta(minutes=1), REUSE)
    with pytest.raises(ConcurrentUpdate):
        await case.ledger.record(family, 0)
    async with case.uow() as uow:
        stored = await uow.sessions.get(family_id)
    assert stored is not None and stored.generation == 1
    assert stored.current_hash != family.current_hash  # the loser's successor was not kept


async def test_racing_records_let_exactly_one_win(case: LedgerCase) -> None:
    family_id, token = await _started(case.uow)
    loaded = [await case.ledger.find(family_id) for _ in range(6)]
    families = [found[0] for found in loaded if found is not None]
    for family in families:
        family.refresh(token, DEVICE, T0 + timedelta(minutes=1), REUSE)
    outcomes = await asyncio.gather(
        *(case.ledger.record(family, 0) for family in families), return_exceptions=True)
    assert sum(outcome is None for outcome in outcomes) == 1
    assert all(isinstance(o, ConcurrentUpdate) for o in outcomes if o is not None)
    winner = families[outcomes.index(None)]
    found = await case.ledger.find(family_id)
    assert found is not None and found[0].current_hash == winner.current_hash
    assert found[0].generation == 1


async def test_a_revocation_is_never_undone(case: LedgerCase) -> None:
    family_id, token = await _started(case.uow)
    before_logout = await case.ledger.find(family_id)
    revoking = await case.ledger.find(family_id)
    assert before_logout is not None and revoking is not None
    revoking[0].revoke(T0 + timedelta(minutes=1), "reuse_detected")
    await case.ledger.record(revoking[0], 0)  # a revocation keeps the generation
    family = before_logout[0]
    family.refresh(token, DEVICE, T0 + timedelta(minutes=2), REUSE)
    await case.ledger.record(family, 0)  # read before the revocation: same generation
    found = await case.ledger.find(family_id)
    assert found is not None
    assert (found[0].revoked_at, found[0].revoked_reason) == (
        T0 + timedelta(minutes=1), "reuse_detected")
    async with case.uow() as uow:
        assert [f.id for f in await uow.sessions.live_for_user(found[1].id, T0)] == []


async def test_last_seen_moves_forward_only_when_asked(case: LedgerCase) -> None:
    family_id, token = await _started(case.uow, last_seen_hours_ago=2)
    second = await _rotate(case.ledger, family_id, token, 1)  # no seen_at: user left alone
    found = await case.ledger.find(family_id)
    assert found is not None and found[1].last_seen_at == T0 - timedelta(hours=2)
    family, user = found
    now = T0 + timedelta(minutes=2)
    family.refresh(second, DEVICE, now, REUSE)
    assert user.touch(now)
    await case.ledger.record(family, 1, now)
    found = await case.ledger.find(family_id)
    assert found is not None and found[1].last_seen_at == now
    # An older time never moves it back.
    family, _ = found
    generation = family.generation
    family.revoke(now, "logout")
    await case.ledger.record(family, generation, now - SEEN_GRANULARITY * 3)
    found = await case.ledger.find(family_id)
    assert found is not None and found[1].last_seen_at == now


async def test_tokens_issued_before_sealing_still_find_their_family(case: LedgerCase) -> None:
    """A token of the first format, recorded as the code before sealed tokens recorded it,
    finds its family (to be exchanged, or to end it on a replay) after rotations too."""
    family_id, first = await _started(case.uow)
    await case.issued_before_sealing(hash_token(first), family_id, 0)
    found = await case.ledger.find_by_first_format(hash_token(first))
    assert found is not None and found[0].current_hash == hash_token(first)
    await _rotate(case.ledger, family_id, first, 1)
    rotated = await case.ledger.find_by_first_format(hash_token(first))
    assert rotated is not None and rotated[0].generation == 1
    assert rotated == await case.ledger.find(family_id)
    assert await case.ledger.find_by_first_format(hash_token("never issued")) is None


def _successor(token: str) -> tuple[str, bytes, str]:
    nonce = new_rotation_nonce()
    successor = derive_successor(token, nonce)
    return successor, nonce, hash_token(successor)


async def test_rotate_is_the_plain_rotation_in_one_step(case: LedgerCase) -> None:
    family_id, token = await _started(case.uow)
    before = await case.ledger.find(family_id)
    _, nonce, successor_hash = _successor(token)
    now = T0 + timedelta(minutes=1)
    rotated = await case.ledger.rotate(
        family_id, 0, hash_token(token), DEVICE, successor_hash, nonce, now)
    assert rotated is not None and before is not None
    family, user = rotated
    expected = before[0]
    expected.rotate_to(successor_hash, nonce, now)  # what the domain would have stored
    assert family == expected
    assert user == before[1]
    assert await case.ledger.find(family_id) == (expected, user)
    assert family.id == family_id


@pytest.mark.parametrize("situation", [
    "previous token", "stale generation", "another device", "revoked", "expired",
    "user disabled", "unknown", "unknown family"])
async def test_rotate_changes_nothing_unless_it_is_a_plain_rotation(
    case: LedgerCase, situation: str
) -> None:
    family_id, first = await _started(case.uow)
    token = await _rotate(case.ledger, family_id, first, 1)
    now, device, presented = T0 + timedelta(minutes=2), DEVICE, token
    generation, named = 1, family_id
    found = await case.ledger.find(family_id)
    assert found is not None
    family, user = found
    if situation == "previous token":
        presented, generation = first, 0
    elif situation == "stale generation":  # the current secret under another generation
        generation = 0
    elif situation == "another device":
        device = "device-0002"
    elif situation == "revoked":
        family.revoke(now, "logout")
        await case.ledger.record(family, family.generation)
    elif situation == "expired":
        now = family.expires_at
    elif situation == "user disabled":
        user.disable()
        async with case.uow() as uow:
            await uow.users.update(user)
            await uow.commit()
    elif situation == "unknown":
        presented = "never issued"
    elif situation == "unknown family":
        named = "no-such-family"
    stored = await case.ledger.find(family_id)
    assert stored is not None
    # The domain agrees that this is not a plain rotation.
    assert not (named == family_id and stored[0].generation == generation
                and stored[0].rotates_on(hash_token(presented), device, now)
                and stored[1].is_active)
    _, nonce, successor_hash = _successor(presented)
    assert await case.ledger.rotate(
        named, generation, hash_token(presented), device, successor_hash, nonce, now) is None
    assert await case.ledger.find(family_id) == stored


async def test_racing_rotations_let_exactly_one_win(case: LedgerCase) -> None:
    family_id, token = await _started(case.uow)
    attempts = [_successor(token) for _ in range(6)]
    outcomes = await asyncio.gather(*(
        case.ledger.rotate(family_id, 0, hash_token(token), DEVICE, digest, nonce,
                           T0 + timedelta(minutes=1))
        for _, nonce, digest in attempts))
    winners = [outcome for outcome in outcomes if outcome is not None]
    assert len(winners) == 1
    found = await case.ledger.find(family_id)
    assert found is not None and found[0] == winners[0][0] and found[0].generation == 1


async def test_concurrent_rotations_each_get_their_own_family(case: LedgerCase) -> None:
    """Rotations asked for at the same moment (the asyncpg ledger sends them as one
    statement): a wrong one among them fails alone, racing copies of one token let one win,
    and two devices of one user both rotate."""
    now = T0 + timedelta(minutes=1)
    user = guest(last_seen=T0 - timedelta(days=1))
    families = [RefreshFamily.start(f"{user.id}-fam{i}", user.id, DEVICE, T0, 30 * DAY)
                for i in range(4)]
    other_device, other_token = RefreshFamily.start(
        f"{user.id}-phone2", user.id, "device-0002", T0, 30 * DAY)
    async with case.uow() as uow:
        await uow.users.add(user)
        for family, _ in [*families, (other_device, other_token)]:
            await uow.sessions.add(family)
        await uow.commit()
    ids = [family.id for family, _ in families]
    tokens = [token for _, token in families]
    asked = [  # (family, presented, device): token 1 on the wrong device, token 2 three times
        (ids[0], tokens[0], DEVICE), (ids[1], tokens[1], "device-0009"),
        (ids[2], tokens[2], DEVICE), (ids[2], tokens[2], DEVICE), (ids[2], tokens[2], DEVICE),
        (ids[3], tokens[3], DEVICE), (other_device.id, other_token, "device-0002")]
    successors = [_successor(presented) for _, presented, _ in asked]
    outcomes = await asyncio.gather(*(
        case.ledger.rotate(family_id, 0, hash_token(presented), device, digest, nonce, now)
        for (family_id, presented, device), (_, nonce, digest)
        in zip(asked, successors, strict=True)))

    def rotated_to(index: int) -> str | None:
        outcome = outcomes[index]
        return outcome[0].current_hash if outcome is not None else None

    assert rotated_to(0) == successors[0][2] and rotated_to(5) == successors[5][2]
    assert rotated_to(6) == successors[6][2]
    assert outcomes[1] is None  # the wrong device changed nothing
    unchanged = await case.ledger.find(ids[1])
    assert unchanged is not None and unchanged[0].generation == families[1][0].generation
    assert unchanged[0].current_hash == hash_token(tokens[1])
    racing = [rotated_to(i) for i in (2, 3, 4)]
    assert sum(digest is not None for digest in racing) == 1
    stored = await case.ledger.find(ids[2])
    assert stored is not None and stored[0].current_hash in racing
    for index in (0, 5, 6):
        outcome = outcomes[index]
        assert outcome is not None and outcome[1].last_seen_at == now
        found = await case.ledger.find(asked[index][0])
        assert found is not None and found[0] == outcome[0]
    async with case.uow() as uow:
        seen = await uow.users.get(user.id)
    assert seen is not None and seen.last_seen_at == now


@pytest.mark.parametrize(("seen_ago", "moves"), [
    (SEEN_GRANULARITY * 2, True), (SEEN_GRANULARITY / 6, False)])
async def test_rotate_moves_last_seen_as_touch_does(
    case: LedgerCase, seen_ago: timedelta, moves: bool
) -> None:
    now = T0 + timedelta(minutes=1)
    user = guest(last_seen=now - seen_ago)
    family, token = RefreshFamily.start(f"{user.id}-fam", user.id, DEVICE, T0, 30 * DAY)
    async with case.uow() as uow:
        await uow.users.add(user)
        await uow.sessions.add(family)
        await uow.commit()
    _, nonce, successor_hash = _successor(token)
    rotated = await case.ledger.rotate(
        family.id, 0, hash_token(token), DEVICE, successor_hash, nonce, now)
    assert rotated is not None
    expected = now if moves else now - seen_ago
    assert rotated[1].last_seen_at == expected
    async with case.uow() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None and stored.last_seen_at == expected


@pytest.mark.postgres
async def test_the_driver_ledger_survives_killed_connections(
    postgres_url: str, pg_engine: object
) -> None:
    """A failover or pg_terminate_backend drops the pool's connections: the next refresh
    reconnects instead of answering 500 until a restart."""
    pool = await create_driver_pool(postgres_url, size=2)
    admin = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        ledger = AsyncpgRefreshLedger(pool)
        assert await ledger.find("warm-up") is None
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert killed >= 1
        await asyncio.sleep(0.2)
        assert await ledger.find_by_first_format(hash_token("after the kill")) is None
    finally:
        await admin.close()
        await pool.close()
