"""Repository and Unit-of-Work contract: the same tests on memory, SQLite and PostgreSQL."""

import asyncio
from datetime import UTC, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from adapters.local.credentials import LocalCredential
from adapters.sql.engine import create_engine
from adapters.sql.migrate import alembic_config, check_database, upgrade_database
from adapters.sql.tables import metadata
from domain.devices.model import Device, Platform
from domain.sessions.model import RefreshFamily
from domain.shared.errors import Conflict, NotFound
from domain.transfers.model import TransferCode
from domain.users.lockout import LoginAttempts
from domain.users.model import EmailInUse, UserKind, UserStatus
from tests.contract.conftest import T0, RepoBackend, guest, member

DAY = timedelta(days=1)


async def test_user_round_trip_and_lookups(repo_backend: RepoBackend) -> None:
    user = member("ada@example.com")
    user.display_name, user.notify_by_email, user.email_confirmed = "Ada", True, True
    user.disable()
    async with repo_backend.uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with repo_backend.uow() as uow:
        stored = await uow.users.get(user.id)
        assert stored == user
        assert stored is not None and stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at == T0 and stored.status is UserStatus.DISABLED
        assert await uow.users.get_by_email("ada@example.com") == user
        assert await uow.users.get_by_external_id(f"sub-{user.id}") == user
        assert await uow.users.get("nobody") is None
        assert await uow.users.get_by_email("nobody@example.com") is None
        assert await uow.users.get_by_external_id("nobody") is None


async def test_a_locked_user_makes_the_next_unit_of_work_wait(repo_backend: RepoBackend) -> None:
    """What the daily image quota relies on: two requests never count at the same time."""
    user = guest()
    async with repo_backend.uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    order: list[str] = []

    async def second() -> None:
        async with repo_backend.uow() as uow:
            await uow.users.lock(user.id)
            order.append("second locked")
            await uow.commit()

    async with repo_backend.uow() as uow:
        await uow.users.lock(user.id)
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        order.append("first commits")
        await uow.commit()
    await asyncio.wait_for(waiting, 10)
    assert order == ["first commits", "second locked"]


async def test_returned_users_are_copies(repo_backend: RepoBackend) -> None:
    user = guest()
    async with repo_backend.uow() as uow:
        await uow.users.add(user)
        user.display_name = "changed after add"
        loaded = await uow.users.get(user.id)
        assert loaded is not None and loaded.display_name is None
        loaded.display_name = "changed without update"
        again = await uow.users.get(user.id)
        assert again is not None and again.display_name is None


async def test_user_update_and_upgrade(repo_backend: RepoBackend) -> None:
    user = guest()
    async with repo_backend.uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with repo_backend.uow() as uow:
        loaded = await uow.users.get(user.id)
        assert loaded is not None
        loaded.upgrade("grace@example.com", "sub-grace")
        loaded.update_profile("Grace", notify_by_email=True)
        loaded.touch(T0 + DAY)
        await uow.users.update(loaded)
        await uow.commit()
    async with repo_backend.uow() as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None and stored.kind is UserKind.MEMBER
        assert (stored.email, stored.display_name) == ("grace@example.com", "Grace")
        assert stored.last_seen_at == T0 + DAY
        assert await uow.users.get_by_external_id("sub-grace") == stored


async def test_update_of_missing_user_is_not_found(repo_backend: RepoBackend) -> None:
    async with repo_backend.uow() as uow:
        with pytest.raises(NotFound):
            await uow.users.update(guest())


async def test_duplicate_email_or_subject_is_email_in_use(repo_backend: RepoBackend) -> None:
    first = member("taken@example.com")
    async with repo_backend.uow() as uow:
        await uow.users.add(first)
        await uow.commit()
    async with repo_backend.uow() as uow:
        with pytest.raises(EmailInUse):
            await uow.users.add(member("taken@example.com"))
        twin = member()
        twin.external_id = first.external_id
        with pytest.raises(EmailInUse):
            await uow.users.add(twin)
        # The transaction is still usable after the refusal.
        survivor = member()
        await uow.users.add(survivor)
        other = await uow.users.get(survivor.id)
        assert other is not None
        other.email = "taken@example.com"
        with pytest.raises(EmailInUse):
            await uow.users.update(other)
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.users.get(survivor.id) == survivor


async def test_duplicate_user_id_is_conflict(repo_backend: RepoBackend) -> None:
    user = guest()
    async with repo_backend.uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with repo_backend.uow() as uow:
        with pytest.raises(Conflict):
            await uow.users.add(user)


async def test_delete_cascades_to_everything_the_user_owns(repo_backend: RepoBackend) -> None:
    doomed, bystander = guest(), guest()
    families: dict[str, RefreshFamily] = {}
    hashes: dict[str, list[str]] = {}
    async with repo_backend.uow() as uow:
        for user in (doomed, bystander):
            await uow.users.add(user)
            await uow.devices.add(Device(user.id, "device-0001", Platform.IOS, T0, T0))
            family, token = RefreshFamily.start(user.id + "f", user.id, "device-0001", T0, DAY)
            family.refresh(token, "device-0001", T0, timedelta(seconds=10))
            await uow.sessions.add(family)
            hashes[user.id] = [h for h in (family.previous_hash, family.current_hash) if h]
            families[user.id] = family
            code, _ = TransferCode.issue(user.id, T0, DAY)
            await uow.transfer_codes.add(code)
        await uow.commit()
    for user in (doomed, bystander):
        await repo_backend.insert_image(user.id, None)
    async with repo_backend.uow() as uow:
        await uow.users.delete(doomed.id)
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.users.get(doomed.id) is None
        assert await uow.devices.for_user(doomed.id) == []
        assert await uow.sessions.get(families[doomed.id].id) is None
        for digest in hashes[doomed.id]:
            assert await uow.sessions.get_by_token_hash(digest) is None
        assert await uow.transfer_codes.live_for_user(doomed.id, T0) == []
        assert await uow.images.count_for_user(doomed.id) == 0
        assert await uow.users.get(bystander.id) == bystander
        assert len(await uow.devices.for_user(bystander.id)) == 1
        assert await uow.sessions.get(families[bystander.id].id) is not None
        assert len(await uow.transfer_codes.live_for_user(bystander.id, T0)) == 1
        assert await uow.images.count_for_user(bystander.id) == 1


async def test_idle_guests_oldest_first_before_the_cutoff(repo_backend: RepoBackend) -> None:
    oldest, older, recent = guest(T0 - 10 * DAY), guest(T0 - 5 * DAY), guest(T0 - DAY)
    old_member = member()
    old_member.last_seen_at = T0 - 30 * DAY
    async with repo_backend.uow() as uow:
        for user in (recent, oldest, old_member, older):
            await uow.users.add(user)
        await uow.commit()
    async with repo_backend.uow() as uow:
        cutoff = T0 - 2 * DAY
        assert [u.id for u in await uow.users.idle_guests(cutoff, 10)] == [oldest.id, older.id]
        assert [u.id for u in await uow.users.idle_guests(cutoff, 1)] == [oldest.id]
        assert await uow.users.idle_guests(T0 - 10 * DAY, 10) == []


async def test_devices(repo_backend: RepoBackend) -> None:
    user, other = guest(), member()
    first = Device(user.id, "device-0001", Platform.IOS, T0, T0)
    second = Device(user.id, "device-0002", Platform.ANDROID, T0 + DAY, T0 + DAY)
    async with repo_backend.uow() as uow:
        await uow.users.add(user)
        await uow.users.add(other)
        await uow.devices.add(second)
        await uow.devices.add(first)
        await uow.devices.add(Device(other.id, "device-0002", Platform.IOS, T0, T0))
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.devices.get(user.id, "device-0001") == first
        assert await uow.devices.get(user.id, "device-9999") is None
        assert await uow.devices.for_user(user.id) == [first, second]
        first.revoke(T0 + 2 * DAY)
        await uow.devices.update(first)
        await uow.commit()
    async with repo_backend.uow() as uow:
        stored = await uow.devices.get(user.id, "device-0001")
        assert stored is not None and stored.revoked_at == T0 + 2 * DAY and not stored.active
        with pytest.raises(NotFound):
            await uow.devices.update(Device(user.id, "device-9999", Platform.IOS, T0, T0))
    async with repo_backend.uow() as uow:
        # device-0002 is already bound to the target: the target's binding wins.
        assert await uow.devices.move_to(user.id, other.id) == 1
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.devices.for_user(user.id) == []
        moved = await uow.devices.for_user(other.id)
        assert [(d.device_id, d.platform) for d in moved] == [
            ("device-0001", Platform.IOS), ("device-0002", Platform.IOS)]


async def test_device_of_unknown_user_is_conflict(repo_backend: RepoBackend) -> None:
    async with repo_backend.uow() as uow:
        with pytest.raises(Conflict):
            await uow.devices.add(Device("nobody", "device-0001", Platform.IOS, T0, T0))


async def test_login_attempts(repo_backend: RepoBackend) -> None:
    async with repo_backend.uow() as uow:
        assert await uow.login_attempts.get("x@example.com") is None
        await uow.login_attempts.save(LoginAttempts("x@example.com", 5, T0 + DAY))
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.login_attempts.get("x@example.com") == LoginAttempts(
            "x@example.com", 5, T0 + DAY)
        await uow.login_attempts.save(LoginAttempts("x@example.com", 0, None))
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.login_attempts.get("x@example.com") == LoginAttempts("x@example.com")


async def test_images_move_owner_and_count(repo_backend: RepoBackend) -> None:
    from_guest, to_member = guest(), member()
    async with repo_backend.uow() as uow:
        await uow.users.add(from_guest)
        await uow.users.add(to_member)
        await uow.commit()
    for key in ("k1", "shared", None):
        await repo_backend.insert_image(from_guest.id, key)
    await repo_backend.insert_image(to_member.id, "shared")
    async with repo_backend.uow() as uow:
        assert await uow.images.count_for_user(from_guest.id) == 3
        assert await uow.images.move_owner(from_guest.id, to_member.id) == 3
        assert await uow.images.move_owner(from_guest.id, to_member.id) == 0
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.images.count_for_user(from_guest.id) == 0
        assert await uow.images.count_for_user(to_member.id) == 4


async def test_rollback_on_exception(repo_backend: RepoBackend) -> None:
    user = guest()
    with pytest.raises(RuntimeError):
        async with repo_backend.uow() as uow:
            await uow.users.add(user)
            raise RuntimeError("boom")
    async with repo_backend.uow() as uow:
        assert await uow.users.get(user.id) is None


async def test_exit_without_commit_discards(repo_backend: RepoBackend) -> None:
    kept, dropped, rolled_back = guest(), guest(), guest()
    async with repo_backend.uow() as uow:
        await uow.users.add(kept)
        await uow.commit()
        await uow.users.add(dropped)
    async with repo_backend.uow() as uow:
        await uow.users.add(rolled_back)
        await uow.rollback()
        assert await uow.users.get(rolled_back.id) is None
    async with repo_backend.uow() as uow:
        assert await uow.users.get(kept.id) == kept
        assert await uow.users.get(dropped.id) is None
        assert await uow.users.get(rolled_back.id) is None


async def test_commit_is_visible_to_later_units_of_work(repo_backend: RepoBackend) -> None:
    user = guest()
    async with repo_backend.uow() as uow:
        await uow.users.add(user)
        await uow.devices.add(Device(user.id, "device-0001", Platform.IOS, T0, T0))
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.users.get(user.id) == user
        assert len(await uow.devices.for_user(user.id)) == 1


async def test_credential_store(repo_backend: RepoBackend) -> None:
    store = repo_backend.credentials
    credential = LocalCredential("cred@example.com", "sub-1", "$argon2id$hash", T0)
    assert await store.get("cred@example.com") is None
    await store.add(credential)
    assert await store.get("cred@example.com") == credential
    with pytest.raises(EmailInUse):
        await store.add(LocalCredential("cred@example.com", "sub-2", "other", T0))
    credential.confirmed, credential.code_hash = True, "abc"
    credential.code_expires_at, credential.code_attempts = T0 + DAY, 2
    await store.update(credential)
    stored = await store.get("cred@example.com")
    assert stored == credential
    assert stored is not None and stored.code_expires_at is not None
    assert stored.code_expires_at.tzinfo is not None
    assert stored.code_expires_at.astimezone(UTC) == T0 + DAY
    with pytest.raises(NotFound):
        await store.update(LocalCredential("ghost@example.com", "sub-3", "x", T0))


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_upgrade_database_is_idempotent(db: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"{db}_url")  # already migrated once by the fixture
    await upgrade_database(url)
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        await check_database(engine)
        async with engine.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            drift = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    finally:
        await engine.dispose()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert {
        "users", "devices", "refresh_families", "refresh_tokens", "transfer_codes",
        "login_attempts", "local_credentials", "images", "outbox",
    } <= names
    assert drift == [], "adapters/sql/tables.py and the migrations disagree"


async def test_credential_code_attempts_are_taken_up_to_the_cap(
    repo_backend: RepoBackend,
) -> None:
    store = repo_backend.credentials
    await store.add(LocalCredential("code@example.com", "sub-c", "x", T0, code_hash="h1",
                                    code_expires_at=T0 + DAY))
    taken = [await store.take_code_attempt("code@example.com", T0, 3) for _ in range(4)]
    assert [c.code_attempts if c else None for c in taken] == [1, 2, 3, None]
    assert await store.take_code_attempt("code@example.com", T0 + DAY, 9) is None  # expired
    assert await store.take_code_attempt("ghost@example.com", T0, 9) is None
    assert not await store.confirm_with("code@example.com", "another code")
    assert await store.confirm_with("code@example.com", "h1")
    confirmed = await store.get("code@example.com")
    assert confirmed is not None and confirmed.confirmed and confirmed.code_hash is None
    assert not await store.confirm_with("code@example.com", "h1")


async def test_login_attempts_per_source_are_held_and_cleared(repo_backend: RepoBackend) -> None:
    async with repo_backend.uow() as uow:
        fresh = await uow.login_attempts.get_for_update("y@example.com", "10.0.0.1")
        assert fresh == LoginAttempts("y@example.com", source="10.0.0.1")
        fresh.failures = 2
        await uow.login_attempts.save(fresh)
        await uow.login_attempts.save(LoginAttempts("y@example.com", 1))
        await uow.commit()
    async with repo_backend.uow() as uow:
        held = await uow.login_attempts.get_for_update("y@example.com", "10.0.0.1")
        assert held.failures == 2
        assert await uow.login_attempts.get("y@example.com") == LoginAttempts("y@example.com", 1)
        await uow.login_attempts.delete("y@example.com", "10.0.0.1")
        await uow.commit()
    async with repo_backend.uow() as uow:
        assert await uow.login_attempts.get("y@example.com", "10.0.0.1") is None
        assert await uow.login_attempts.get("y@example.com") is not None
