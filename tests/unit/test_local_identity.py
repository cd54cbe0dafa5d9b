"""What the local identity provider does beyond the shared IdentityProvider contract."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from adapters.local.identity import LocalIdentityProvider
from adapters.memory.credentials import InMemoryCredentialStore
from adapters.memory.mailer import InMemoryMailer
from application.ports.identity import InvalidConfirmationCode, InvalidCredentials
from domain.users.model import UserDisabled

EMAIL, PASSWORD = "ada@example.com", "Correct-Horse-9-battery"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


class CountingHasher(PasswordHasher):
    def __init__(self, time_cost: int = 1) -> None:
        super().__init__(time_cost=time_cost, memory_cost=8, parallelism=1)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)


def provider(hasher: PasswordHasher | None = None) -> tuple[
    LocalIdentityProvider, InMemoryCredentialStore, InMemoryMailer
]:
    store, mailer = InMemoryCredentialStore(), InMemoryMailer()
    return (
        LocalIdentityProvider(store, mailer, lambda: T0, hasher or CountingHasher()),
        store, mailer,
    )


def code_in(mailer: InMemoryMailer) -> str:
    found = re.search(r"\b\d{6}\b", mailer.sent[-1].body)
    assert found is not None
    return found.group()


async def test_an_unknown_email_costs_a_password_verification() -> None:
    hasher = CountingHasher()
    identity, _, _ = provider(hasher)
    with pytest.raises(InvalidCredentials):
        await identity.authenticate("nobody@example.com", PASSWORD)
    assert hasher.verifications == 1


async def test_a_disabled_login_is_told_only_to_the_right_password() -> None:
    identity, _, mailer = provider()
    await identity.register(EMAIL, PASSWORD)
    await identity.confirm(EMAIL, code_in(mailer))
    await identity.disable(EMAIL)
    with pytest.raises(InvalidCredentials):
        await identity.authenticate(EMAIL, PASSWORD + "x")
    with pytest.raises(UserDisabled):
        await identity.authenticate(EMAIL, PASSWORD)


async def test_wrong_codes_are_counted_in_the_store() -> None:
    identity, store, mailer = provider()
    await identity.register(EMAIL, PASSWORD)
    wrong = f"{(int(code_in(mailer)) + 1) % 1_000_000:06d}"
    for _ in range(2):
        with pytest.raises(InvalidConfirmationCode):
            await identity.confirm(EMAIL, wrong)
    credential = await store.get(EMAIL)
    assert credential is not None and credential.code_attempts == 2
    assert credential.code_expires_at == T0 + timedelta(hours=24)


async def test_a_confirmed_address_cannot_be_confirmed_again() -> None:
    identity, _, mailer = provider()
    await identity.register(EMAIL, PASSWORD)
    code = code_in(mailer)
    await identity.confirm(EMAIL, code)
    with pytest.raises(InvalidConfirmationCode):
        await identity.confirm(EMAIL, code)


async def test_a_hash_with_an_old_cost_is_upgraded_at_login() -> None:
    store, mailer = InMemoryCredentialStore(), InMemoryMailer()
    old = LocalIdentityProvider(store, mailer, lambda: T0, CountingHasher(time_cost=1))
    subject = await old.register(EMAIL, PASSWORD)
    await old.confirm(EMAIL, code_in(mailer))
    before = await store.get(EMAIL)
    new = LocalIdentityProvider(store, mailer, lambda: T0, CountingHasher(time_cost=2))
    assert await new.authenticate(EMAIL, PASSWORD) == subject
    after = await store.get(EMAIL)
    assert before is not None and after is not None
    assert "t=1" in before.password_hash and "t=2" in after.password_hash


async def test_codes_are_six_digits_and_vary() -> None:
    identity, _, mailer = provider()
    codes = set()
    for i in range(20):
        await identity.register(f"u{i}@example.com", PASSWORD)
        codes.add(code_in(mailer))
    assert len(codes) > 15
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)


async def test_the_default_hasher_is_argon2id_at_production_cost() -> None:
    store, mailer = InMemoryCredentialStore(), InMemoryMailer()
    identity = LocalIdentityProvider(store, mailer, lambda: T0)
    await identity.register(EMAIL, PASSWORD)
    credential = await store.get(EMAIL)
    assert credential is not None
    assert credential.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
