"""Apple token revocation against a fake Sign in with Apple REST API on loopback that
checks the client secret's ES256 signature and claims and the form fields, as Apple does."""

from collections.abc import AsyncIterator, Iterator

import jwt
import pytest

from adapters.apple.token_revocation import AppleRefused, AppleTokenRevocation
from application.identity.apple_revocation import REVOKE_APPLE, apple_revocation, revocation_for
from application.ports.apple_tokens import RevocableToken
from tests.support.fake_apple_tokens import (
    AUDIENCE,
    FakeAppleTokens,
    fake_apple_tokens,
    new_ec_key,
    pem,
)

CLIENT_ID = "com.example.atelier"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAppleTokens]:
    with fake_apple_tokens(CLIENT_ID) as running:
        yield running


def adapter_config(fake: FakeAppleTokens, private_key: str | None = None) -> dict[str, str]:
    return {"client_id": CLIENT_ID, "team_id": fake.team_id, "key_id": fake.key_id,
            "private_key": private_key or pem(fake.key), "audience": AUDIENCE,
            "token_url": fake.url + "/auth/token", "revoke_url": fake.url + "/auth/revoke"}


@pytest.fixture
async def apple(fake: FakeAppleTokens) -> AsyncIterator[AppleTokenRevocation]:
    fake.down = False
    async with AppleTokenRevocation.create(**adapter_config(fake)) as adapter:
        yield adapter


async def test_a_code_is_redeemed_and_its_refresh_token_revoked(
    apple: AppleTokenRevocation, fake: FakeAppleTokens,
) -> None:
    code = fake.issue_code()
    token = await apple.redeem(code)
    assert token == RevocableToken(fake.codes[code] or "", "refresh_token")
    await apple.revoke(token)
    assert (token.value, "refresh_token") in fake.revoked_tokens()
    assert await apple.redeem(code) is None  # single use, as at Apple


async def test_the_client_secret_is_what_apple_asks_for(apple: AppleTokenRevocation,
                                                        fake: FakeAppleTokens) -> None:
    secret = apple.client_secret()
    assert jwt.get_unverified_header(secret) == {"alg": "ES256", "kid": fake.key_id,
                                                 "typ": "JWT"}
    claims = jwt.decode(secret, fake.key.public_key(), algorithms=["ES256"],
                        audience=AUDIENCE)
    assert (claims["iss"], claims["sub"]) == (fake.team_id, CLIENT_ID)
    assert 0 < claims["exp"] - claims["iat"] <= 300


async def test_a_secret_signed_with_another_key_is_refused(fake: FakeAppleTokens) -> None:
    async with AppleTokenRevocation.create(
            **adapter_config(fake, pem(new_ec_key()))) as impostor:
        with pytest.raises(AppleRefused, match="invalid_client"):
            await impostor.revoke(RevocableToken("r.anything", "refresh_token"))
    assert any("Signature" in reason for reason in fake.refused)


async def test_apple_down_is_an_error_the_relay_retries(
    apple: AppleTokenRevocation, fake: FakeAppleTokens,
) -> None:
    fake.down = True
    with pytest.raises(AppleRefused):
        await apple.revoke(RevocableToken("r.x", "refresh_token"))
    # In the request: the code is kept as it is, for the relay to redeem while it lasts.
    code = fake.issue_code()
    assert await revocation_for(apple, code) == {"code": code}
    fake.down = False
    deliver = apple_revocation(apple)[REVOKE_APPLE]
    await deliver({"code": code})
    assert (fake.codes[code], "refresh_token") in fake.revoked_tokens()
    await deliver({"code": code})  # a duplicate delivery: the code is spent, nothing breaks


async def test_what_the_request_queues(apple: AppleTokenRevocation,
                                       fake: FakeAppleTokens) -> None:
    code = fake.issue_code()
    queued = await revocation_for(apple, code)
    assert queued == {"token": fake.codes[code], "hint": "refresh_token"}
    assert await revocation_for(apple, code) is None  # refused by Apple: nothing to revoke
    assert await revocation_for(apple, None) is None
    await apple_revocation(apple)[REVOKE_APPLE](queued)
    await apple_revocation(apple)[REVOKE_APPLE](queued)  # revoking twice is fine at Apple
    assert fake.revoked_tokens().count((fake.codes[code], "refresh_token")) == 2
