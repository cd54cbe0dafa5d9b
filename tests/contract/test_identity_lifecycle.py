"""Password reset and password change on every IdentityProvider: the local one and Cognito
(on the moto server); e-mail change and the code rules on the local one.

What moto's Cognito cannot show, and so runs on the local provider only:
- ForgotPassword mails nothing; the code comes back in an `x-moto-forgot-password-
  confirmation-code` response header (read here from the adapter's own call).
- ConfirmForgotPassword checks only codes that start with `moto-confirmation-code:`;
  any other string is accepted as right, and a wrong one answers ExpiredCodeException
  (real Cognito: CodeMismatchException). No attempt count, no expiry, no per-user limit,
  and no password policy on the new password.
- E-mail change: Cognito checks a new address's code only with the user's own access
  token (VerifyUserAttribute), which the confirming request does not carry. The adapter
  keeps and mails that code itself (the local provider's code store, here in memory) and
  moves the address with AdminUpdateUserAttributes, which moto does emulate.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from adapters.aws.cognito import CognitoIdentityProvider
from adapters.local.identity import RESET_SUBJECT, LocalIdentityProvider
from adapters.local.lifecycle_codes import LifecycleCodes
from adapters.memory.credentials import InMemoryCredentialStore
from adapters.memory.mailer import InMemoryMailer
from application.ports.identity import (
    CodeExpired,
    IdentityProvider,
    InvalidCode,
    InvalidCredentials,
)
from domain.users.model import EmailInUse, WeakPassword
from tests.contract.test_identity_providers import CHEAP_HASHER, FakeClock, create_pool
from tests.fixtures.aws import Aws

EMAIL, PASSWORD, NEW_PASSWORD = "ada@example.com", "Correct-Horse-9-battery", "New-Horse-7-batt"


@dataclass
class Lifecycle:
    provider: IdentityProvider
    mailer: InMemoryMailer
    register: Callable[[str], Awaitable[str]]
    """A confirmed login for the address; returns its subject."""
    reset_code: Callable[[str], Awaitable[str]]
    """The code the last reset request sent to the address."""
    local: "LocalParts | None" = None


@dataclass
class LocalParts:
    clock: FakeClock
    mailer: InMemoryMailer


def wrong(code: str) -> str:
    head, digits = code[:-6], code[-6:]
    return head + f"{(int(digits) + 1) % 1_000_000:06d}"


def last_code(mailer: InMemoryMailer, email: str, subject: str) -> str:
    sent = mailer.last_to(email)
    assert sent is not None and sent.subject == subject, sent
    found = re.search(r"\b(\d{6})\b", sent.body)
    assert found is not None, sent.body
    return found.group(1)


@pytest.fixture(params=["local", pytest.param("cognito", marks=pytest.mark.moto)])
async def lc(request: pytest.FixtureRequest) -> AsyncIterator[Lifecycle]:
    if request.param == "local":
        mailer, clock = InMemoryMailer(), FakeClock()
        local = LocalIdentityProvider(InMemoryCredentialStore(), mailer, clock, CHEAP_HASHER)

        async def register_local(email: str) -> str:
            subject = await local.register(email, PASSWORD)
            sent = mailer.last_to(email)
            assert sent is not None
            found = re.search(r"\b(\d{6})\b", sent.body)
            assert found is not None
            await local.confirm(email, found.group(1))
            return subject

        async def local_reset_code(email: str) -> str:
            return last_code(mailer, email, RESET_SUBJECT)

        yield Lifecycle(local, mailer, register_local, local_reset_code,
                        LocalParts(clock, mailer))
        return

    aws: Aws = request.getfixturevalue("aws")
    async with aws.client("cognito-idp") as cognito:
        pool_id, client_id, _ = await create_pool(cognito)
        codes: dict[str, str] = {}

        def capture(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
            headers = parsed.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            code = headers.get("x-moto-forgot-password-confirmation-code")
            if code:
                codes["last"] = code

        cognito.meta.events.register("after-call.cognito-idp.ForgotPassword", capture)
        mailer = InMemoryMailer()
        provider = CognitoIdentityProvider(
            cognito, pool_id, client_id,
            email_codes=LifecycleCodes(InMemoryCredentialStore(), FakeClock()), mailer=mailer)

        async def register_cognito(email: str) -> str:
            subject = await provider.register(email, PASSWORD)
            await provider.confirm(email, "123456")  # moto accepts any sign-up code
            return subject

        async def moto_reset_code(email: str) -> str:
            return codes.pop("last")

        yield Lifecycle(provider, mailer, register_cognito, moto_reset_code)


async def test_a_reset_code_sets_the_password(lc: Lifecycle) -> None:
    subject = await lc.register(EMAIL)
    await lc.provider.request_password_reset(EMAIL)
    code = await lc.reset_code(EMAIL)
    assert await lc.provider.confirm_password_reset(EMAIL, code, NEW_PASSWORD) == subject
    assert await lc.provider.authenticate(EMAIL, NEW_PASSWORD) == subject
    with pytest.raises(InvalidCredentials):
        await lc.provider.authenticate(EMAIL, PASSWORD)


async def test_a_wrong_reset_code_is_refused(lc: Lifecycle) -> None:
    await lc.register(EMAIL)
    await lc.provider.request_password_reset(EMAIL)
    code = await lc.reset_code(EMAIL)
    with pytest.raises((InvalidCode, CodeExpired)):  # moto: ExpiredCodeException
        await lc.provider.confirm_password_reset(EMAIL, wrong(code), NEW_PASSWORD)
    assert await lc.provider.authenticate(EMAIL, PASSWORD)


async def test_a_reset_for_an_unknown_address_is_silent(lc: Lifecycle) -> None:
    await lc.provider.request_password_reset("nobody@example.com")
    if lc.local is not None:
        assert lc.local.mailer.sent == []


async def test_change_password_needs_the_current_one(lc: Lifecycle) -> None:
    subject = await lc.register(EMAIL)
    with pytest.raises(InvalidCredentials):
        await lc.provider.change_password(EMAIL, "Wrong-Horse-1-battery", NEW_PASSWORD)
    await lc.provider.change_password(EMAIL, PASSWORD, NEW_PASSWORD)
    assert await lc.provider.authenticate(EMAIL, NEW_PASSWORD) == subject


async def test_change_password_to_a_weak_one_is_refused(lc: Lifecycle) -> None:
    if lc.local is not None:
        pytest.skip("the local provider takes the policy from the use case (check_password)")
    await lc.register(EMAIL)
    with pytest.raises(WeakPassword):
        await lc.provider.change_password(EMAIL, PASSWORD, "weak")


# ---- the code rules, on the local provider (moto does not count, expire or limit) -----

def local(lc: Lifecycle) -> LocalParts:
    if lc.local is None:
        pytest.skip("moto's ConfirmForgotPassword neither counts attempts nor expires codes")
    return lc.local


async def test_five_wrong_reset_codes_kill_the_code(lc: Lifecycle) -> None:
    parts = local(lc)
    await lc.register(EMAIL)
    await lc.provider.request_password_reset(EMAIL)
    code = await lc.reset_code(EMAIL)
    for _ in range(5):
        with pytest.raises(InvalidCode):
            await lc.provider.confirm_password_reset(EMAIL, wrong(code), NEW_PASSWORD)
    with pytest.raises(CodeExpired):
        await lc.provider.confirm_password_reset(EMAIL, code, NEW_PASSWORD)
    # A new request (a minute later) replaces the dead code.
    parts.clock.now += timedelta(minutes=1)
    await lc.provider.request_password_reset(EMAIL)
    fresh = await lc.reset_code(EMAIL)
    assert await lc.provider.confirm_password_reset(EMAIL, fresh, NEW_PASSWORD)


async def test_a_reset_code_expires_after_24_hours(lc: Lifecycle) -> None:
    parts = local(lc)
    await lc.register(EMAIL)
    await lc.provider.request_password_reset(EMAIL)
    code = await lc.reset_code(EMAIL)
    parts.clock.now += timedelta(hours=24)
    with pytest.raises(CodeExpired):
        await lc.provider.confirm_password_reset(EMAIL, code, NEW_PASSWORD)


async def test_a_new_request_replaces_the_old_code(lc: Lifecycle) -> None:
    parts = local(lc)
    await lc.register(EMAIL)
    await lc.provider.request_password_reset(EMAIL)
    first = await lc.reset_code(EMAIL)
    parts.clock.now += timedelta(minutes=2)
    await lc.provider.request_password_reset(EMAIL)
    second = await lc.reset_code(EMAIL)
    if first != second:
        with pytest.raises(InvalidCode):
            await lc.provider.confirm_password_reset(EMAIL, first, NEW_PASSWORD)
    assert await lc.provider.confirm_password_reset(EMAIL, second, NEW_PASSWORD)


async def test_reset_mail_is_one_a_minute_and_five_a_day_per_address(lc: Lifecycle) -> None:
    parts = local(lc)
    await lc.register(EMAIL)
    before = len(parts.mailer.sent)
    for _ in range(3):
        await lc.provider.request_password_reset(EMAIL)
    assert len(parts.mailer.sent) - before == 1
    for _ in range(10):
        parts.clock.now += timedelta(minutes=2)
        await lc.provider.request_password_reset(EMAIL)
    assert len(parts.mailer.sent) - before == 5
    parts.clock.now += timedelta(days=1)
    await lc.provider.request_password_reset(EMAIL)
    assert len(parts.mailer.sent) - before == 6


async def test_an_email_change_moves_the_login_after_the_code(lc: Lifecycle) -> None:
    subject = await lc.register(EMAIL)
    await lc.register("taken@example.com")
    with pytest.raises(EmailInUse):
        await lc.provider.request_email_change(EMAIL, "taken@example.com")
    await lc.provider.request_email_change(EMAIL, "new@example.com")
    sent = lc.mailer.last_to("new@example.com")
    assert sent is not None
    found = re.search(r"\b(\d{6})\b", sent.body)
    assert found is not None
    with pytest.raises(InvalidCode):
        await lc.provider.confirm_email_change(EMAIL, wrong(found.group(1)))
    assert await lc.provider.authenticate(EMAIL, PASSWORD) == subject  # nothing changed yet
    assert await lc.provider.confirm_email_change(EMAIL, found.group(1)) == "new@example.com"
    assert await lc.provider.authenticate("new@example.com", PASSWORD) == subject
    with pytest.raises(InvalidCredentials):
        await lc.provider.authenticate(EMAIL, PASSWORD)
