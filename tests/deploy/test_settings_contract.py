"""Settings contract: what the Terraform and compose hand a workload is what its code reads.

Every variable a task definition, a Lambda function or a compose service sets is a field of
Settings (under one of the names it accepts) or a variable AWS tooling documents; the
values validate; every `ssm:`/`secretsmanager:` value is resolved by the code that reads it,
the Lambda included, against the moto server. A misspelled variable is otherwise silently
ignored and the service runs on a default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import AliasChoices
from sqlalchemy import select
from workloads import (
    ENVIRONMENTS,
    compose_services,
    containers,
    estate,
    is_unknown,
    lambda_environments,
)

from adapters.sql.tables import users
from entrypoints.lambdas import bootstrap
from entrypoints.lambdas.cognito_triggers import post_confirmation
from entrypoints.wiring.settings import Settings
from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.fixtures.postgres import run_async
from tests.support.lambda_events import event

# Read by the AWS SDK or the Lambda runtime, not by Settings (each is documented by AWS:
# the SDKs' shared configuration variables and the Lambda runtime's reserved variables).
AWS_VARIABLES = {
    "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL",
}
OTEL_PREFIX = "OTEL_"  # OpenTelemetry's SDK configuration variables


def settings_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice).upper() for choice in alias.choices}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"ATELIER_{name}".upper())
    return names


def workload_environments() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, environment) for every workload the estate and compose configure."""
    for env in ENVIRONMENTS:
        root = estate(env)
        for family, container in containers(root).items():
            yield f"{env}: ECS task {family}", {**container.environment, **{
                name: f"(ECS secret {arn})" for name, arn in container.secrets.items()}}
        for function, variables in lambda_environments(root).items():
            yield f"{env}: Lambda {function}", variables
    for service, variables in compose_services().items():
        yield f"compose: {service}", variables


def settings_from(environment: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as the process would build them from exactly this environment."""
    for name in list(os.environ):
        if name.startswith("ATELIER_") or name.upper() in settings_names():
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    return Settings()


def test_every_variable_a_workload_is_given_is_a_setting_or_an_aws_variable() -> None:
    known = settings_names() | AWS_VARIABLES
    unread = [f"{where}: {name}" for where, variables in workload_environments()
              for name in variables
              if name.upper() not in known and not name.startswith(OTEL_PREFIX)]
    assert not unread, "set but read by nothing (a typo, or a setting renamed):\n" + "\n".join(
        unread)


def test_every_workload_environment_validates_as_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for where, variables in workload_environments():
        with monkeypatch.context() as scoped:
            try:
                settings_from(variables, scoped)
            except ValueError as error:
                pytest.fail(f"{where}: {error}")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_admin_api_signs_admins_in_with_the_user_pool(
    env: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without these the admin API falls back to local admins in production."""
    admin = containers(estate(env))["admin-api"]
    settings = settings_from(admin.environment, monkeypatch)
    assert settings.admin_auth == "cognito"
    # The console's app client issues the admins' tokens (Terraform: unknown until apply).
    assert settings.admin_cognito_client_ids == "<aws_cognito_user_pool_client.admin.id>"
    pool = "<aws_cognito_user_pool.this.id>"
    assert settings.cognito_user_pool_id == pool
    assert settings.cognito_issuer == f"https://cognito-idp.us-east-1.amazonaws.com/{pool}"
    assert settings.cognito_jwks_url == f"{settings.cognito_issuer}/.well-known/jwks.json"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_references_in_task_environments_are_settings_the_services_resolve(
    env: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service resolves the references among its Settings' string fields at start
    (Settings.references()); one in any other variable would reach the code unresolved."""
    for family, container in containers(estate(env)).items():
        references = {name for name, value in container.environment.items()
                      if str(value).startswith(("ssm:", "secretsmanager:"))}
        with monkeypatch.context() as scoped:
            resolvable = set(settings_from(container.environment, scoped).references().values())
        unresolved = {name for name in references
                      if str(container.environment[name]) not in resolvable}
        assert not unresolved, f"{env}: {family}: references nobody resolves: {unresolved}"


@pytest.mark.postgres
@pytest.mark.moto
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_post_confirmation_lambda_resolves_its_database_url_reference(
    env: str, aws: Aws, postgres_url: str, pg_engine: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The function's environment, as Terraform sets it, with the secret in Secrets
    Manager (moto): the handler reads the secret and records the user in PostgreSQL."""

    async def create_secret() -> str:
        async with aws.client("secretsmanager") as secrets:
            created = await secrets.create_secret(
                Name=f"atelier-{env}/database-url", SecretString=postgres_url)
        return str(created["ARN"])

    arn = run_async(create_secret)
    root = estate(env, {'aws_secretsmanager_secret.connection["database-url"].arn': arn})
    variables = lambda_environments(root)["post-confirmation"]
    assert not any(is_unknown(v) for v in variables.values()), variables
    for name in ("DATABASE_URL", "ATELIER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**variables, "AWS_ENDPOINT_URL": aws.endpoint_url,
                        "AWS_REGION": aws.region, "AWS_ACCESS_KEY_ID": DUMMY_KEY,
                        "AWS_SECRET_ACCESS_KEY": DUMMY_KEY}.items():
        monkeypatch.setenv(name, str(value))
    sub = f"0d5e7f1a-3b2c-4d6e-8f9a-{env:0>12}"
    bootstrap.reset()
    try:
        post_confirmation(event("post_confirmation", sub=sub, email=f"{env}@example.com"), None)
    finally:
        bootstrap.reset()

    async def recorded() -> list[str]:
        async with pg_engine.connect() as connection:
            found = await connection.scalars(select(users.c.email).where(
                users.c.external_id == sub))
            return list(found)

    assert run_async(recorded) == [f"{env}@example.com"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_console_signs_admins_in_through_the_pool_hosted_ui(
    env: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the console's task is given agrees with the app client and domain Terraform
    makes: the callback the client allows is the one the console asks for, on the same
    allow-list and proxy hops as the admin API."""
    root = estate(env)
    tasks = containers(root)
    console = settings_from(tasks["console"].environment, monkeypatch)
    with monkeypatch.context() as scoped:
        admin_api = settings_from(tasks["admin-api"].environment, scoped)
    client_id = "<aws_cognito_user_pool_client.console.id>"
    assert console.admin_auth == "cognito"
    assert console.console_cognito_client_id == client_id
    assert client_id in str(console.admin_cognito_client_ids).split(",")
    assert console.cognito_issuer == admin_api.cognito_issuer
    assert console.cognito_jwks_url == admin_api.cognito_jwks_url
    assert console.admin_allowed_cidrs == admin_api.admin_allowed_cidrs
    assert console.trusted_proxy_hops == admin_api.trusted_proxy_hops == 2
    assert {"DATABASE_URL", "REDIS_URL"} <= set(tasks["console"].secrets)

    identity = root.module("identity")
    (client,) = identity.instances("resource", "aws_cognito_user_pool_client",
                                   "console").values()
    assert console.console_public_url == root.module("edge").output("public_url")
    assert client.argument("callback_urls") == [f"{console.console_public_url}/auth/callback"]
    assert client.argument("allowed_oauth_flows") == ["code"]
    assert set(client.argument("allowed_oauth_scopes")) == {"openid", "email", "profile"}
    assert client.argument("generate_secret") is False  # a public client: PKCE
    assert client.argument("allowed_oauth_flows_user_pool_client") is True
    domain = identity.instances("resource", "aws_cognito_user_pool_domain", "this")[None]
    assert console.console_cognito_domain == (
        f"https://{domain.argument('domain')}.auth.us-east-1.amazoncognito.com")
    assert console.console_session_idle_minutes > 0
    assert console.console_session_absolute_hours * 60 > console.console_session_idle_minutes
