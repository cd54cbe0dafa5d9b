"""Production admin authentication against Cognito (moto): access tokens of the `admins`
group from our pool and app client only. moto signs every pool's tokens with one key and
writes the real AWS issuer, so the JWKS URL (moto) and the issuer are configured apart."""

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from adapters.aws.cognito_tokens import CognitoAdminTokens, CognitoJwks, InvalidCognitoToken
from adapters.sql.migrate import upgrade_database
from application.identity.triggers import RecordConfirmedSignUp
from domain.shared.clock import utcnow
from entrypoints.wiring.di import resolve
from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.support.admin import ADMIN, AdminStack, running_admin_stack

pytestmark = pytest.mark.moto
PASSWORD = "Sup3r-secret-pass!"


@dataclass
class Pool:
    pool_id: str
    client_id: str


async def make_pool(cognito: Any, name: str) -> Pool:
    pool = await cognito.create_user_pool(PoolName=name, UsernameAttributes=["email"])
    pool_id = pool["UserPool"]["Id"]
    client = await cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="admin-console",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    await cognito.create_group(GroupName="admins", UserPoolId=pool_id)
    return Pool(pool_id, client["UserPoolClient"]["ClientId"])


async def user_tokens(cognito: Any, pool: Pool, email: str, admin: bool) -> dict[str, str]:
    await cognito.admin_create_user(UserPoolId=pool.pool_id, Username=email,
                                    UserAttributes=[{"Name": "email", "Value": email}],
                                    MessageAction="SUPPRESS")
    await cognito.admin_set_user_password(UserPoolId=pool.pool_id, Username=email,
                                          Password=PASSWORD, Permanent=True)
    if admin:
        await cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=email,
                                              GroupName="admins")
    result = await cognito.initiate_auth(
        ClientId=pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
    tokens: dict[str, str] = result["AuthenticationResult"]
    return tokens


def moto_signed(claims: dict[str, Any]) -> str:
    """A token signed with moto's own Cognito key (as if Cognito had issued it)."""
    from moto.utilities.utils import load_resource

    private = RSAAlgorithm.from_jwk(json.dumps(
        load_resource("cognitoidp/resources/jwks-private.json")))
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": "dummy"})  # type: ignore[arg-type]


@dataclass
class World:
    stack: AdminStack
    aws: Aws
    pool: Pool
    other: Pool
    admin: dict[str, str]
    plain: dict[str, str]
    foreign_admin: dict[str, str]


@pytest.fixture
async def world(
    aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    async with aws.client("cognito-idp") as cognito:
        pool, other = await make_pool(cognito, "atelier"), await make_pool(cognito, "other")
        admin = await user_tokens(cognito, pool, "boss@atelier.test", admin=True)
        plain = await user_tokens(cognito, pool, "ada@example.com", admin=False)
        foreign = await user_tokens(cognito, other, "boss@elsewhere.test", admin=True)
    settings = {
        "admin_auth": "cognito", "identity_provider": "cognito",
        "cognito_user_pool_id": pool.pool_id, "cognito_client_id": pool.client_id,
        "admin_cognito_jwks_url": f"{aws.endpoint_url}/{pool.pool_id}/.well-known/jwks.json",
        "aws_endpoint_url": aws.endpoint_url, "aws_region": aws.region,
    }
    async with running_admin_stack(tmp_path / "data", url, **settings) as stack:
        yield World(stack, aws, pool, other, admin, plain, foreign)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def status_of(world: World, token: str) -> tuple[int, str]:
    response = await world.stack.client.get(f"{ADMIN}/users", headers=bearer(token))
    return response.status_code, response.json().get("error", {}).get("code", "")


async def test_an_admins_member_access_token_is_accepted(world: World) -> None:
    assert await status_of(world, world.admin["AccessToken"]) == (200, "")


async def test_a_member_outside_the_admins_group_is_forbidden(world: World) -> None:
    assert await status_of(world, world.plain["AccessToken"]) == (403, "not_an_admin")


async def test_an_admin_of_another_pool_is_refused(world: World) -> None:
    # Same signing key in moto, right group, but another pool's issuer and app client.
    assert await status_of(world, world.foreign_admin["AccessToken"]) == (401, "invalid_token")


async def test_an_id_token_is_not_an_access_token(world: World) -> None:
    assert await status_of(world, world.admin["IdToken"]) == (401, "invalid_token")


async def test_an_expired_token_is_refused(world: World) -> None:
    claims = jwt.decode(world.admin["AccessToken"], options={"verify_signature": False})
    now = int(time.time())
    expired = moto_signed({**claims, "iat": now - 7200, "exp": now - 3600})
    assert await status_of(world, expired) == (401, "invalid_token")
    fresh = moto_signed({**claims, "iat": now, "exp": now + 600})
    assert await status_of(world, fresh) == (200, "")


async def test_forged_and_downgraded_tokens_are_refused(world: World) -> None:
    claims = jwt.decode(world.plain["AccessToken"], options={"verify_signature": False})
    promoted = {**claims, "cognito:groups": ["admins"]}
    head, _, signature = world.plain["AccessToken"].split(".")
    body = jwt.utils.base64url_encode(json.dumps(promoted).encode()).decode()
    tampered = f"{head}.{body}.{signature}"
    assert await status_of(world, tampered) == (401, "invalid_token")
    unsigned = jwt.encode(promoted, None, algorithm="none")  # type: ignore[arg-type]
    assert await status_of(world, unsigned) == (401, "invalid_token")
    hmac = jwt.encode(promoted, "dummy-secret-that-is-long-enough-for-hs256", algorithm="HS256",
                      headers={"kid": "dummy"})
    assert await status_of(world, hmac) == (401, "invalid_token")
    unknown_kid = jwt.encode(promoted, "x" * 32, algorithm="HS256", headers={"kid": "other"})
    assert await status_of(world, unknown_kid) == (401, "invalid_token")


async def test_local_admin_login_is_off_in_cognito_mode(world: World) -> None:
    response = await world.stack.client.post(f"{ADMIN}/sessions", json={
        "email": "boss@atelier.test", "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "local_login_disabled"


async def test_disabling_a_user_disables_the_cognito_login_and_is_audited(world: World) -> None:
    claims = jwt.decode(world.plain["AccessToken"], options={"verify_signature": False})
    record = RecordConfirmedSignUp(await resolve(world.stack.admin.uow_factory), utcnow)
    user = await record("ada@example.com", claims["sub"])  # what post confirmation did
    auth = bearer(world.admin["AccessToken"])
    response = await world.stack.client.post(f"{ADMIN}/users/{user.id}/disable", headers=auth)
    assert response.status_code == 200, response.text
    async with world.aws.client("cognito-idp") as cognito:
        found = await cognito.admin_get_user(UserPoolId=world.pool.pool_id,
                                             Username="ada@example.com")
    assert found["Enabled"] is False
    entries = (await world.stack.client.get(f"{ADMIN}/audit", headers=auth)).json()["entries"]
    boss = jwt.decode(world.admin["AccessToken"], options={"verify_signature": False})
    assert entries[0]["action"] == "user.disabled"
    assert entries[0]["actor"] == f"cognito:{boss['sub']}"


async def test_the_verifier_checks_expiry_against_its_clock(world: World) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        jwks = CognitoJwks(
            client, f"{world.aws.endpoint_url}/{world.pool.pool_id}/.well-known/jwks.json")
        issuer = f"https://cognito-idp.{world.aws.region}.amazonaws.com/{world.pool.pool_id}"
        later = CognitoAdminTokens(jwks, issuer, frozenset({world.pool.client_id}),
                                   leeway=0, wall=lambda: time.time() + 7200)
        with pytest.raises(InvalidCognitoToken):
            await later.verify(world.admin["AccessToken"])
        now = CognitoAdminTokens(jwks, issuer, frozenset({world.pool.client_id}))
        boss = jwt.decode(world.admin["AccessToken"], options={"verify_signature": False})
        assert (await now.verify(world.admin["AccessToken"])).subject == boss["sub"]
