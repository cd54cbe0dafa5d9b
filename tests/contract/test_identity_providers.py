"""One contract for every IdentityProvider: the local one and Cognito (on the moto server).

moto's Cognito neither sends nor checks confirmation codes: `confirm_sign_up` accepts any
code. So the Cognito harness "reads" a fixed code, and the wrong-code cases run locally only.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher

from adapters.aws.cognito import CognitoIdentityProvider
from adapters.local.identity import CONFIRMATION_SUBJECT, LocalIdentityProvider
from adapters.memory.credentials import InMemoryCredentialStore
from adapters.memory.mailer import InMemoryMailer
from application.ports.identity import (
    EmailNotConfirmed,
    IdentityProvider,
    InvalidConfirmationCode,
    InvalidCredentials,
)
from domain.shared.errors import NotFound
from domain.users.model import EmailInUse, UserDisabled, WeakPassword
from tests.fixtures.aws import Aws

EMAIL = "ada@example.com"
PASSWORD = "Correct-Horse-9-battery"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    provider: IdentityProvider
    read_code: Callable[[str], Awaitable[str]]
    checks_codes: bool
    clock: FakeClock | None = None
    mailer: InMemoryMailer | None = None


async def create_pool(cognito: Any, *, secret: bool = False) -> tuple[str, str, str | None]:
    pool = await cognito.create_user_pool(
        PoolName="atelier",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
    )
    pool_id = pool["UserPool"]["Id"]
    app = await cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="mobile-api",
        GenerateSecret=secret,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    client = app["UserPoolClient"]
    return pool_id, client["ClientId"], client.get("ClientSecret")


@pytest.fixture(params=["local", pytest.param("cognito", marks=pytest.mark.moto)])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "local":
        mailer, clock = InMemoryMailer(), FakeClock()
        provider = LocalIdentityProvider(InMemoryCredentialStore(), mailer, clock, CHEAP_HASHER)

        async def read_local_code(email: str) -> str:
            sent = mailer.last_to(email)
            assert sent is not None, f"no mail was sent to {email}"
            assert sent.subject == CONFIRMATION_SUBJECT
            found = re.search(r"\b(\d{6})\b", sent.body)
            assert found is not None, sent.body
            return found.group(1)

        yield Harness(provider, read_local_code, checks_codes=True, clock=clock, mailer=mailer)
        return

    aws: Aws = request.getfixturevalue("aws")
    async with aws.client("cognito-idp") as cognito:
        pool_id, client_id, _ = await create_pool(cognito)

        async def read_moto_code(email: str) -> str:
            return "123456"  # moto accepts any code; it never generates one

        yield Harness(
            CognitoIdentityProvider(cognito, pool_id, client_id), read_moto_code,
            checks_codes=False,
        )


async def registered(h: Harness, email: str = EMAIL) -> str:
    subject = await h.provider.register(email, PASSWORD)
    code = await h.read_code(email)
    assert await h.provider.confirm(email, code) == subject
    return subject


async def test_register_sends_a_code_and_confirm_returns_the_subject(h: Harness) -> None:
    subject = await h.provider.register(EMAIL, PASSWORD)
    assert subject
    code = await h.read_code(EMAIL)
    assert re.fullmatch(r"\d{6}", code)
    assert await h.provider.confirm(EMAIL, code) == subject


async def test_authenticate_returns_the_subject(h: Harness) -> None:
    subject = await registered(h)
    assert await h.provider.authenticate(EMAIL, PASSWORD) == subject


async def test_wrong_password_is_invalid_credentials(h: Harness) -> None:
    await registered(h)
    with pytest.raises(InvalidCredentials):
        await h.provider.authenticate(EMAIL, PASSWORD + "x")


async def test_unknown_email_is_invalid_credentials(h: Harness) -> None:
    await registered(h)
    with pytest.raises(InvalidCredentials):
        await h.provider.authenticate("nobody@example.com", PASSWORD)


async def test_unconfirmed_email_cannot_log_in(h: Harness) -> None:
    await h.provider.register(EMAIL, PASSWORD)
    with pytest.raises(EmailNotConfirmed):
        await h.provider.authenticate(EMAIL, PASSWORD)


async def test_unconfirmed_email_with_a_wrong_password_reveals_nothing(h: Harness) -> None:
    await h.provider.register(EMAIL, PASSWORD)
    with pytest.raises((InvalidCredentials, EmailNotConfirmed)) as caught:
        await h.provider.authenticate(EMAIL, "wrong-password-1A!")
    if h.checks_codes:  # locally the state is only told to someone who knows the password
        assert isinstance(caught.value, InvalidCredentials)


async def test_registering_twice_is_email_in_use(h: Harness) -> None:
    await h.provider.register(EMAIL, PASSWORD)
    with pytest.raises(EmailInUse):
        await h.provider.register(EMAIL, PASSWORD)
    await registered(h, "other@example.com")
    with pytest.raises(EmailInUse):
        await h.provider.register("other@example.com", PASSWORD)


async def test_disable_blocks_login_and_enable_restores_it(h: Harness) -> None:
    subject = await registered(h)
    await h.provider.disable(EMAIL)
    with pytest.raises(InvalidCredentials):
        await h.provider.authenticate(EMAIL, PASSWORD + "x")
    # The local provider tells the state only to the right password; Cognito answers
    # "User is disabled." before it checks the password, so the adapter cannot tell.
    with pytest.raises(UserDisabled if h.checks_codes else InvalidCredentials):
        await h.provider.authenticate(EMAIL, PASSWORD)
    await h.provider.enable(EMAIL)
    assert await h.provider.authenticate(EMAIL, PASSWORD) == subject


async def test_disable_of_an_unknown_login_is_not_found(h: Harness) -> None:
    with pytest.raises(NotFound):
        await h.provider.disable("nobody@example.com")


async def test_confirm_for_an_unknown_email_is_an_invalid_code(h: Harness) -> None:
    with pytest.raises(InvalidConfirmationCode):
        await h.provider.confirm("nobody@example.com", "123456")


async def test_a_wrong_code_is_refused_and_the_right_one_still_works(h: Harness) -> None:
    if not h.checks_codes:
        pytest.skip("moto's confirm_sign_up accepts any code")
    subject = await h.provider.register(EMAIL, PASSWORD)
    code = await h.read_code(EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidConfirmationCode):
        await h.provider.confirm(EMAIL, wrong)
    assert await h.provider.confirm(EMAIL, code) == subject


async def test_five_wrong_codes_void_the_code(h: Harness) -> None:
    if not h.checks_codes:
        pytest.skip("moto's confirm_sign_up accepts any code")
    await h.provider.register(EMAIL, PASSWORD)
    code = await h.read_code(EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(InvalidConfirmationCode):
            await h.provider.confirm(EMAIL, wrong)
    with pytest.raises(InvalidConfirmationCode):
        await h.provider.confirm(EMAIL, code)


async def test_a_code_expires_after_24_hours(h: Harness) -> None:
    if h.clock is None:
        pytest.skip("moto's codes never expire")
    await h.provider.register(EMAIL, PASSWORD)
    code = await h.read_code(EMAIL)
    h.clock.now += timedelta(hours=24)
    with pytest.raises(InvalidConfirmationCode):
        await h.provider.confirm(EMAIL, code)


def _resends(h: Harness) -> FakeClock:
    if h.clock is None:
        pytest.skip("moto 5.2.5 does not implement Cognito's ResendConfirmationCode")
    return h.clock


def _mails_to(h: Harness, email: str) -> int:
    assert h.mailer is not None
    return sum(1 for sent in h.mailer.sent if sent.to == email)


async def test_resend_is_the_way_back_after_five_wrong_codes(h: Harness) -> None:
    clock = _resends(h)
    subject = await h.provider.register(EMAIL, PASSWORD)
    code = await h.read_code(EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(InvalidConfirmationCode):
            await h.provider.confirm(EMAIL, wrong)
    clock.now += timedelta(seconds=5)
    await h.provider.resend_code(EMAIL)
    fresh = await h.read_code(EMAIL)
    assert _mails_to(h, EMAIL) == 2
    assert await h.provider.confirm(EMAIL, fresh) == subject
    assert await h.provider.authenticate(EMAIL, PASSWORD) == subject


async def test_a_resent_code_replaces_the_previous_one(h: Harness) -> None:
    clock = _resends(h)
    subject = await h.provider.register(EMAIL, PASSWORD)
    first = await h.read_code(EMAIL)
    clock.now += timedelta(minutes=2)
    await h.provider.resend_code(EMAIL)
    second = await h.read_code(EMAIL)
    if second != first:  # one in a million they coincide
        with pytest.raises(InvalidConfirmationCode):
            await h.provider.confirm(EMAIL, first)
    assert await h.provider.confirm(EMAIL, second) == subject


async def test_resend_sends_one_code_a_minute_and_nothing_to_strangers(h: Harness) -> None:
    clock = _resends(h)
    await h.provider.register(EMAIL, PASSWORD)
    await h.provider.resend_code(EMAIL)  # within the minute of registering: nothing
    clock.now += timedelta(seconds=59)
    await h.provider.resend_code(EMAIL)
    assert _mails_to(h, EMAIL) == 1
    await h.provider.resend_code("nobody@example.com")
    assert _mails_to(h, "nobody@example.com") == 0
    await registered(h, "done@example.com")
    clock.now += timedelta(minutes=5)
    await h.provider.resend_code("done@example.com")  # confirmed already: nothing
    assert _mails_to(h, "done@example.com") == 1


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


# ---- what only one implementation can show -------------------------------------------

async def test_local_hooks_run_on_sign_up_and_confirmation() -> None:
    seen: list[tuple[str, ...]] = []

    async def on_sign_up(email: str) -> None:
        if email.endswith("@blocked.example"):
            raise PermissionError("domain not allowed")
        seen.append(("sign_up", email))

    async def on_confirmed(email: str, subject: str) -> None:
        seen.append(("confirmed", email, subject))

    mailer = InMemoryMailer()
    provider = LocalIdentityProvider(
        InMemoryCredentialStore(), mailer, FakeClock(), CHEAP_HASHER,
        on_sign_up=on_sign_up, on_confirmed=on_confirmed,
    )
    with pytest.raises(PermissionError):
        await provider.register("eve@blocked.example", PASSWORD)
    assert mailer.sent == []
    subject = await provider.register(EMAIL, PASSWORD)
    code = re.search(r"\d{6}", mailer.sent[-1].body)
    assert code is not None
    await provider.confirm(EMAIL, code.group())
    assert seen == [("sign_up", EMAIL), ("confirmed", EMAIL, subject)]


async def test_local_store_keeps_only_hashes() -> None:
    store, mailer = InMemoryCredentialStore(), InMemoryMailer()
    provider = LocalIdentityProvider(store, mailer, FakeClock(), CHEAP_HASHER)
    await provider.register(EMAIL, PASSWORD)
    credential = await store.get(EMAIL)
    assert credential is not None
    code = re.search(r"\d{6}", mailer.sent[-1].body)
    assert code is not None
    assert credential.password_hash.startswith("$argon2id$")
    assert PASSWORD not in credential.password_hash
    assert credential.code_hash is not None and code.group() not in credential.code_hash


@pytest.mark.moto
async def test_cognito_weak_password_and_client_secret(aws: Aws) -> None:
    async with aws.client("cognito-idp") as cognito:
        pool_id, client_id, secret = await create_pool(cognito, secret=True)
        assert secret
        provider = CognitoIdentityProvider(cognito, pool_id, client_id, secret)
        with pytest.raises(WeakPassword):
            await provider.register(EMAIL, "short")
        subject = await provider.register(EMAIL, PASSWORD)
        assert await provider.confirm(EMAIL, "000000") == subject
        assert await provider.authenticate(EMAIL, PASSWORD) == subject


@pytest.mark.moto
async def test_cognito_create_keeps_one_client(aws: Aws) -> None:
    async with aws.client("cognito-idp") as cognito:
        pool_id, client_id, _ = await create_pool(cognito)
    async with CognitoIdentityProvider.create(
        aws.session, pool_id, client_id, region=aws.region, endpoint_url=aws.endpoint_url
    ) as provider:
        subject = await registered(Harness(provider, _any_code, checks_codes=False))
        assert await provider.authenticate(EMAIL, PASSWORD) == subject


async def _any_code(email: str) -> str:
    return "123456"


def test_cognito_secret_hash_matches_what_the_service_checks() -> None:
    # moto's USER_PASSWORD_AUTH skips SECRET_HASH; its SRP flow checks it with this function.
    from moto.cognitoidp.utils import check_secret_hash

    provider = CognitoIdentityProvider(None, "pool", "client-id", "s3cr3t")
    secret_hash = provider._secret_hash(EMAIL)["SecretHash"]
    assert check_secret_hash("s3cr3t", "client-id", EMAIL, secret_hash)
    assert CognitoIdentityProvider(None, "pool", "client-id")._secret_hash(EMAIL) == {}
