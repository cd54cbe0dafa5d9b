"""The identity use cases on the in-memory Unit of Work: register, log in, merge a guest,
redeem a transfer code, disable and enable a user. Built from application/ with memory
adapters, the local identity provider, a clock the test moves, and the auth cache a node
keeps (`CachedAuthenticator`), so "sessions end at once" is checked where it matters."""

import asyncio
import inspect
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.crypto.eddsa import EdDSASigner, EdDSAVerifier, generate_ed25519
from adapters.local.identity import LocalIdentityProvider
from adapters.memory.bus import InMemoryRealtimeBus
from adapters.memory.credentials import InMemoryCredentialStore
from adapters.memory.database import InMemoryDatabase
from adapters.memory.mailer import InMemoryMailer
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from application.admin.acting import Acting
from application.admin.users import SetUserStatus
from application.auth.authenticate import Authenticate, Principal, SessionEnded
from application.auth.policy import AuthPolicy
from application.auth.principal_cache import CachedAuthenticator
from application.auth.session_events import BusSessionEvents
from application.auth.tokens import Authenticated, TokenFactory
from application.identity.create_guest import CreateGuest
from application.identity.login import Login
from application.identity.merge_guest import MergeGuest
from application.identity.register import Register
from application.ports.identity import InvalidCredentials
from application.ports.messaging import BusMessage
from application.transfers.issue_code import IssueTransferCode
from application.transfers.redeem_code import RedeemTransferCode
from domain.admins.model import AdminIdentity, AdminSource
from domain.keys.model import SigningKey
from domain.sessions.tokens import RefreshTokenSeal
from domain.transfers.model import InvalidTransferCode
from domain.users.lockout import EVERY_SOURCE, AccountLocked
from domain.users.model import (
    AlreadyMember,
    EmailInUse,
    NotAGuest,
    UserDisabled,
    UserKind,
    UserStatus,
)

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
ADA, PASSWORD = "ada@example.com", "Correct-Horse-9-battery"
PHONE, NEW_PHONE = "IDFV-PHONE-0001", "ANDROID-NEW-0002"
HOME, STRANGER = "198.51.100.7", "203.0.113.66"
ADMIN = Acting(AdminIdentity("ops", AdminSource.CLI))


class Clock:
    """The use cases' clock. The auth cache's own clock never moves: what it holds stays
    cached for the whole test, so only an explicit `forget_user` clears it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    db: InMemoryDatabase
    clock: Clock
    mailer: InMemoryMailer
    identity: LocalIdentityProvider
    policy: AuthPolicy
    tokens: TokenFactory
    auth: CachedAuthenticator
    """Bearer token -> Principal, through the cache a node keeps."""
    events: BusSessionEvents
    notices: list[BusMessage] = field(default_factory=list)
    """What went out on the bus's `internal:auth` channel."""

    def wire(self, use_case: type[Any], **extra: Any) -> Any:
        """Builds a use case from its constructor's parameter names, as the container does."""
        ports = {
            "uow_factory": InMemoryUnitOfWorkFactory(self.db), "identity": self.identity,
            "tokens": self.tokens, "policy": self.policy, "clock": self.clock,
            "auth_cache": self.auth, "session_events": self.events, **extra,
        }
        wanted = list(inspect.signature(use_case).parameters)
        return use_case(**{name: ports[name] for name in wanted})

    async def register(
        self, email: str = ADA, device_id: str = PHONE, guest: Principal | None = None
    ) -> Authenticated:
        registered: Authenticated = await self.wire(Register)(
            email, PASSWORD, device_id, "ios", guest=guest)
        return registered

    async def login(
        self, password: str = PASSWORD, device_id: str = PHONE, source: str = HOME,
        email: str = ADA,
    ) -> Authenticated:
        signed_in: Authenticated = await self.wire(Login)(
            email, password, device_id, "android", source)
        return signed_in

    async def merge(self, guest: Authenticated, password: str = PASSWORD) -> Authenticated:
        merged: Authenticated = await self.wire(MergeGuest)(
            await self.principal(guest), ADA, password, HOME)
        return merged

    async def issue(self, owner: Authenticated) -> str:
        code: str = (await self.wire(IssueTransferCode)(await self.principal(owner))).code
        return code

    async def redeem(self, code: str, device_id: str = NEW_PHONE) -> Authenticated:
        redeemed: Authenticated = await self.wire(RedeemTransferCode)(code, device_id, "android")
        return redeemed

    async def set_status(self, user_id: str, *, enable: bool) -> None:
        await self.wire(SetUserStatus, enable=enable)(ADMIN, user_id)

    async def guest(self, device_id: str = PHONE) -> Authenticated:
        created: Authenticated = await self.wire(CreateGuest)(device_id, "ios")
        return created

    async def member(self, email: str = ADA) -> Authenticated:
        """A registered member with a confirmed address, signed in on PHONE."""
        registered = await self.register(email)
        await self.identity.confirm(email, self.code_sent_to(email))
        return registered

    def code_sent_to(self, email: str) -> str:
        mail = self.mailer.last_to(email)
        assert mail is not None
        found = re.search(r"\b\d{6}\b", mail.body)
        assert found is not None
        return found.group()

    async def principal(self, signed_in: Authenticated) -> Principal:
        return await self.auth(signed_in.tokens.access_token)

    def image(self, owner: str) -> str:
        image_id = f"img-{len(self.db.tables.images)}"
        self.db.insert_image(image_id, owner)
        return image_id

    def images_of(self, user_id: str) -> set[str]:
        return {i for i, image in self.db.tables.images.items() if image.user_id == user_id}

    def live_sessions(self, user_id: str) -> list[str]:
        return sorted(f.device_id for f in self.db.tables.sessions.values()
                      if f.user_id == user_id and f.is_live(self.clock()))

    async def failures(self, source: str = EVERY_SOURCE, email: str = ADA) -> int:
        async with InMemoryUnitOfWorkFactory(self.db)() as uow:
            attempts = await uow.login_attempts.get(email, source)
        return attempts.failures if attempts else 0

    async def sessions_ended_for(self) -> list[str]:
        await asyncio.sleep(0)  # the bus listener runs
        return [n.data["user_id"] for n in self.notices
                if n.data.get("type") == "user.sessions_ended"]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    clock = Clock()
    public, private = generate_ed25519()
    key = SigningKey.new(public, private, T0)
    key.activate(T0)
    public_key = Ed25519PublicKey.from_public_bytes(public)
    policy = AuthPolicy()
    db, mailer, bus = InMemoryDatabase(), InMemoryMailer(), InMemoryRealtimeBus()
    verifier = EdDSAVerifier(
        lambda kid: public_key if kid == key.kid else None, policy.issuer,
        AuthPolicy.ACCESS_AUDIENCE, "at+jwt", 30.0,
        max_lifetime=policy.access_token_ttl.total_seconds(), wall=lambda: clock().timestamp())
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    auth = CachedAuthenticator(
        Authenticate(verifier, InMemoryUnitOfWorkFactory(db), clock), session_ttl=60,
        monotonic=lambda: 0.0, wall=lambda: clock().timestamp())
    world = World(
        db, clock, mailer, LocalIdentityProvider(InMemoryCredentialStore(), mailer, clock, cheap),
        policy, TokenFactory(EdDSASigner(lambda: key), policy, RefreshTokenSeal(b"unit-key" * 4)),
        auth, BusSessionEvents(bus, auth))

    async def follow() -> None:
        async for message in bus.listen():
            world.notices.append(message)

    following = asyncio.create_task(follow())
    await asyncio.sleep(0)
    yield world
    following.cancel()


# --- register ---------------------------------------------------------------------------

async def test_registering_a_guest_upgrades_it_in_place(world: World) -> None:
    guest = await world.guest()
    kept = world.image(guest.user.id)
    assert (await world.principal(guest)).user.is_guest  # now cached as a guest

    registered = await world.register(" Ada@Example.com ", guest=await world.principal(guest))

    assert registered.user.id == guest.user.id
    stored = world.db.tables.users[guest.user.id]
    assert (stored.kind, stored.email, stored.email_confirmed) == (UserKind.MEMBER, ADA, False)
    assert len(world.db.tables.users) == 1
    assert world.images_of(guest.user.id) == {kept}
    assert world.code_sent_to(ADA)
    # The guest's own token now finds a member: the auth cache was told.
    assert (await world.principal(guest)).user.kind is UserKind.MEMBER


async def test_registering_without_a_guest_creates_a_member_on_this_device(world: World) -> None:
    registered = await world.register()
    user = world.db.tables.users[registered.user.id]
    assert (user.kind, user.email) == (UserKind.MEMBER, ADA) and user.external_id is not None
    assert world.db.tables.devices[(user.id, PHONE)].active
    assert world.live_sessions(user.id) == [PHONE]
    assert (await world.principal(registered)).device_id == PHONE


async def test_an_email_in_use_is_refused_and_the_guest_stays_a_guest(world: World) -> None:
    await world.member()
    guest = await world.guest(NEW_PHONE)
    with pytest.raises(EmailInUse):
        await world.register("ADA@example.com", NEW_PHONE, guest=await world.principal(guest))
    assert world.db.tables.users[guest.user.id].kind is UserKind.GUEST
    assert (await world.principal(guest)).user.is_guest
    assert len(world.mailer.sent) == 1  # no second confirmation code went out


async def test_an_email_known_only_to_the_provider_is_in_use_too(world: World) -> None:
    await world.identity.register(ADA, PASSWORD)
    with pytest.raises(EmailInUse):
        await world.register()
    assert world.db.tables.users == {}


async def test_a_member_cannot_register_again(world: World) -> None:
    ada = await world.member()
    with pytest.raises(AlreadyMember):
        await world.register("other@example.com", guest=await world.principal(ada))
    assert world.db.tables.users[ada.user.id].email == ADA


# --- log in -------------------------------------------------------------------------------

async def test_login_binds_the_device_and_starts_a_session_there(world: World) -> None:
    ada = await world.member()
    signed_in = await world.login(device_id=NEW_PHONE)
    assert signed_in.user.id == ada.user.id
    assert world.db.tables.devices[(ada.user.id, NEW_PHONE)].platform.value == "android"
    assert world.live_sessions(ada.user.id) == sorted([PHONE, NEW_PHONE])
    principal = await world.principal(signed_in)
    assert (principal.user.id, principal.device_id) == (ada.user.id, NEW_PHONE)


async def test_login_on_a_phone_holding_a_guest_keeps_the_guest(world: World) -> None:
    await world.member()
    guest = await world.guest(NEW_PHONE)
    kept = world.image(guest.user.id)
    await world.login(device_id=NEW_PHONE)
    assert world.images_of(guest.user.id) == {kept}
    assert (await world.principal(guest)).user.id == guest.user.id


async def test_a_bad_password_is_invalid_credentials_until_the_right_one(world: World) -> None:
    await world.member()
    with pytest.raises(InvalidCredentials):
        await world.login("not-the-password")
    assert await world.failures() == 1
    await world.login()
    assert await world.failures() == 0


async def test_five_failures_lock_the_account_with_growing_delays(world: World) -> None:
    await world.member()
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await world.login("not-the-password")
    with pytest.raises(AccountLocked) as locked:
        await world.login()  # even the right password
    assert locked.value.retry_after == 30

    world.clock.advance(seconds=30)
    with pytest.raises(InvalidCredentials):
        await world.login("still-wrong")
    world.clock.advance(seconds=59)
    with pytest.raises(AccountLocked) as longer:
        await world.login()
    assert longer.value.retry_after == 1  # the sixth failure locked for 60 s

    world.clock.advance(seconds=1)
    await world.login()
    assert await world.failures(HOME) == await world.failures() == 0


async def test_a_strangers_guesses_do_not_lock_the_owner_out(world: World) -> None:
    ada = await world.member()
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await world.login("guess-guess", source=STRANGER)
    with pytest.raises(AccountLocked):
        await world.login(source=STRANGER)
    assert (await world.login(source=HOME)).user.id == ada.user.id
    assert (await world.principal(ada)).user.id == ada.user.id  # signed-in sessions go on


async def test_a_burst_of_guesses_gets_no_more_checks_than_the_threshold(world: World) -> None:
    await world.member()
    outcomes = await asyncio.gather(
        *[world.login(f"guess-number-{i}") for i in range(20)], return_exceptions=True)
    assert sum(isinstance(o, InvalidCredentials) for o in outcomes) == 5
    assert sum(isinstance(o, AccountLocked) for o in outcomes) == 15


# --- merge a guest into a member ----------------------------------------------------------

async def test_merge_moves_the_images_and_ends_the_guest(world: World) -> None:
    ada = await world.member()
    own = world.image(ada.user.id)
    guest = await world.guest(NEW_PHONE)
    moved = {world.image(guest.user.id), world.image(guest.user.id)}

    merged = await world.merge(guest)

    assert merged.user.id == ada.user.id
    assert world.images_of(ada.user.id) == moved | {own}
    assert guest.user.id not in world.db.tables.users
    assert world.images_of(guest.user.id) == set()
    assert world.live_sessions(guest.user.id) == []
    with pytest.raises(SessionEnded):
        await world.principal(guest)  # cached a moment ago, refused now
    on_phone = await world.principal(merged)
    assert (on_phone.user.id, on_phone.device_id) == (ada.user.id, NEW_PHONE)


async def test_merge_tells_every_node_that_the_guests_sessions_ended(world: World) -> None:
    """Other API nodes drop the guest from their caches and gateways close its sockets, as
    after a transfer or a disable: the guest's sessions ended here, they must end there."""
    await world.member()
    guest = await world.guest(NEW_PHONE)
    await world.merge(guest)
    assert guest.user.id in await world.sessions_ended_for()


async def test_merge_with_wrong_credentials_changes_nothing(world: World) -> None:
    ada = await world.member()
    guest = await world.guest(NEW_PHONE)
    kept = world.image(guest.user.id)
    with pytest.raises(InvalidCredentials):
        await world.merge(guest, "wrong-password")
    assert world.images_of(guest.user.id) == {kept}
    assert world.images_of(ada.user.id) == set()
    assert (await world.principal(guest)).user.is_guest
    assert await world.failures() == 1  # a merge is a password check like a login


async def test_only_a_guest_merges(world: World) -> None:
    await world.member()
    bob = await world.member("bob@example.com")
    with pytest.raises(NotAGuest):
        await world.merge(bob)
    assert world.db.tables.users[bob.user.id].kind is UserKind.MEMBER


# --- transfer codes -----------------------------------------------------------------------

async def test_redeeming_moves_the_account_and_ends_the_old_phones_sessions(
    world: World,
) -> None:
    ada = await world.member()
    code = await world.issue(ada)

    moved = await world.redeem(code.lower().replace("-", " "))

    assert moved.user.id == ada.user.id
    assert world.live_sessions(ada.user.id) == [NEW_PHONE]
    assert world.db.tables.devices[(ada.user.id, PHONE)].revoked_at == T0
    assert world.db.tables.devices[(ada.user.id, NEW_PHONE)].active
    with pytest.raises(SessionEnded):
        await world.principal(ada)  # the old phone, although its session was cached
    assert (await world.principal(moved)).device_id == NEW_PHONE
    assert ada.user.id in await world.sessions_ended_for()  # other nodes close its sockets


async def test_a_code_is_used_once(world: World) -> None:
    guest = await world.guest()
    code = await world.issue(guest)
    outcomes = await asyncio.gather(
        *[world.redeem(code, f"ANDROID-RACE-{i:04d}") for i in range(20)],
        return_exceptions=True)
    [winner] = [o for o in outcomes if isinstance(o, Authenticated)]
    assert sum(isinstance(o, InvalidTransferCode) for o in outcomes) == 19
    assert world.live_sessions(guest.user.id) == [(await world.principal(winner)).device_id]
    with pytest.raises(InvalidTransferCode):
        await world.redeem(code, PHONE)


async def test_a_code_expires_after_its_lifetime(world: World) -> None:
    guest = await world.guest()
    code = await world.issue(guest)
    world.clock.advance(hours=24)
    with pytest.raises(InvalidTransferCode):
        await world.redeem(code)
    assert world.live_sessions(guest.user.id) == [PHONE]


async def test_a_code_works_until_just_before_it_expires(world: World) -> None:
    guest = await world.guest()
    code = await world.issue(guest)
    world.clock.advance(hours=24, seconds=-1)
    assert (await world.redeem(code)).user.id == guest.user.id


async def test_a_new_code_voids_the_previous_one(world: World) -> None:
    guest = await world.guest()
    first = await world.issue(guest)
    world.clock.advance(minutes=1)
    second = await world.issue(guest)
    with pytest.raises(InvalidTransferCode):
        await world.redeem(first)
    assert (await world.redeem(second)).user.id == guest.user.id


async def test_a_disabled_user_cannot_redeem_and_keeps_the_code_for_later(world: World) -> None:
    ada = await world.member()
    code = await world.issue(ada)
    await world.set_status(ada.user.id, enable=False)
    with pytest.raises(UserDisabled):
        await world.redeem(code)
    await world.set_status(ada.user.id, enable=True)
    assert (await world.redeem(code)).user.id == ada.user.id


# --- disable and enable -------------------------------------------------------------------

async def test_disabling_ends_every_session_at_once_and_blocks_login(world: World) -> None:
    ada = await world.member()
    elsewhere = await world.login(device_id=NEW_PHONE)
    for signed_in in (ada, elsewhere):
        await world.principal(signed_in)  # both sessions cached for as long as the test

    await world.set_status(ada.user.id, enable=False)

    assert world.db.tables.users[ada.user.id].status is UserStatus.DISABLED
    assert world.live_sessions(ada.user.id) == []
    for signed_in in (ada, elsewhere):
        with pytest.raises((SessionEnded, UserDisabled)):
            await world.principal(signed_in)
    assert await world.sessions_ended_for() == [ada.user.id]
    with pytest.raises(UserDisabled):  # the right password learns why: account_disabled
        await world.login(device_id=NEW_PHONE)
    [entry] = world.db.tables.audit
    assert (entry.action, entry.target_id, entry.details) == (
        "user.disabled", ada.user.id, {"sessions_ended": 2})


async def test_enabling_lets_the_user_log_in_again(world: World) -> None:
    ada = await world.member()
    await world.set_status(ada.user.id, enable=False)
    await world.set_status(ada.user.id, enable=True)
    assert world.db.tables.users[ada.user.id].status is UserStatus.ACTIVE
    again = await world.login()
    assert (await world.principal(again)).user.status is UserStatus.ACTIVE
    assert [e.action for e in world.db.tables.audit] == ["user.disabled", "user.enabled"]


async def test_a_disabled_guest_loses_its_sessions_too(world: World) -> None:
    guest = await world.guest()
    await world.principal(guest)
    await world.set_status(guest.user.id, enable=False)
    with pytest.raises((SessionEnded, UserDisabled)):
        await world.principal(guest)
    assert world.live_sessions(guest.user.id) == []
