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
from terraform_eval import policy_document
from workloads import (
    ENVIRONMENTS,
    compose_services,
    containers,
    estate,
    is_unknown,
    lambda_environments,
)

from adapters.aws.cognito import COGNITO_PROVIDER_NAMES
from adapters.sql.tables import users
from domain.users.identities import Provider
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


# Sign in with Apple and Google, as an environment would configure them (terraform.tfvars).
APPLE_KEY_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:atelier/apple-key-AbCdEf"
GOOGLE_SECRET_ARN = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:atelier/google-secret-AbCdEf")
APPLE_SIGN_IN = {
    "services_id": "com.example.atelier.signin",
    "team_id": "TEAM123456",
    "key_id": "KEY1234567",
    "private_key_secret_arn": APPLE_KEY_ARN,
    "app_client_ids": ["com.example.atelier", "com.example.atelier.signin"],
}
GOOGLE_SIGN_IN = {
    "client_id": "web-client.apps.googleusercontent.com",
    "client_secret_secret_arn": GOOGLE_SECRET_ARN,
    "app_client_ids": ["ios.apps.googleusercontent.com", "android.apps.googleusercontent.com"],
}
SIGN_IN_VARIABLES = {"ATELIER_APPLE_CLIENT_IDS", "ATELIER_APPLE_TEAM_ID", "ATELIER_APPLE_KEY_ID",
                     "ATELIER_APPLE_PRIVATE_KEY", "ATELIER_GOOGLE_CLIENT_IDS"}


def estate_with_sign_in(env: str) -> Any:
    root = estate(env)
    root.arguments["apple_sign_in"] = lambda: APPLE_SIGN_IN
    root.arguments["google_sign_in"] = lambda: GOOGLE_SIGN_IN
    return root


def social_providers(root: Any) -> dict[str, Any]:
    identity = root.module("identity")
    return {name: list(identity.instances("resource", "aws_cognito_identity_provider",
                                          name).values())
            for name in ("apple", "google")}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_pool_has_the_apple_and_google_providers_the_mobile_api_links_to(env: str) -> None:
    """AdminLinkProviderForUser names the provider (SourceUser.ProviderName); Cognito refuses
    a link to a provider the pool lacks, so each must exist under the name the adapter uses,
    with the details Cognito requires of its type and its secret read from Secrets Manager."""
    root = estate_with_sign_in(env)
    identity = root.module("identity")
    (apple,) = social_providers(root)["apple"]
    (google,) = social_providers(root)["google"]
    assert apple.argument("provider_name") == COGNITO_PROVIDER_NAMES[Provider.APPLE]
    assert google.argument("provider_name") == COGNITO_PROVIDER_NAMES[Provider.GOOGLE]
    assert apple.argument("provider_type") == "SignInWithApple"
    assert google.argument("provider_type") == "Google"
    pool = "<aws_cognito_user_pool.this.id>"
    assert str(apple.argument("user_pool_id")) == str(google.argument("user_pool_id")) == pool

    apple_details = apple.argument("provider_details")
    assert set(apple_details) == {"client_id", "team_id", "key_id", "private_key",
                                  "authorize_scopes"}
    assert apple_details["client_id"] == APPLE_SIGN_IN["services_id"]
    assert apple_details["team_id"] == APPLE_SIGN_IN["team_id"]
    assert apple_details["key_id"] == APPLE_SIGN_IN["key_id"]
    assert apple_details["authorize_scopes"] == "email name"
    google_details = google.argument("provider_details")
    assert set(google_details) == {"client_id", "client_secret", "authorize_scopes"}
    assert google_details["client_id"] == GOOGLE_SIGN_IN["client_id"]
    assert google_details["authorize_scopes"] == "openid email profile"
    for provider in (apple, google):
        assert provider.argument("attribute_mapping") == {"email": "email", "username": "sub"}

    # The secrets: values of the secret versions at the configured ARNs, not literals.
    (apple_key,) = identity.instances(
        "data", "aws_secretsmanager_secret_version", "apple_private_key").values()
    (google_secret,) = identity.instances(
        "data", "aws_secretsmanager_secret_version", "google_client_secret").values()
    assert apple_key.argument("secret_id") == APPLE_KEY_ARN
    assert google_secret.argument("secret_id") == GOOGLE_SECRET_ARN
    assert str(apple_details["private_key"]) == (
        "<data.aws_secretsmanager_secret_version.apple_private_key[0].secret_string>")
    assert str(google_details["client_secret"]) == (
        "<data.aws_secretsmanager_secret_version.google_client_secret[0].secret_string>")

    # The mobile client signs in with passwords only; links need no hosted-UI federation.
    (mobile,) = identity.instances("resource", "aws_cognito_user_pool_client",
                                   "mobile").values()
    assert mobile.argument("allowed_oauth_flows_user_pool_client") is False
    assert mobile.argument("supported_identity_providers") is None


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_mobile_api_is_given_apple_and_google_sign_in_when_configured(
    env: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Client ids, team and key id as environment, the .p8 key as an ECS secret: every one a
    setting the mobile API reads, and only its execution role may read the key."""
    root = estate_with_sign_in(env)
    tasks = containers(root)
    mobile = tasks["mobile-api"]
    given = {*mobile.environment, *mobile.secrets}
    assert given >= SIGN_IN_VARIABLES
    unread = {name for name in given - settings_names() - AWS_VARIABLES
              if not name.startswith(OTEL_PREFIX)}
    assert not unread, f"set but read by nothing: {unread}"
    assert mobile.secrets["ATELIER_APPLE_PRIVATE_KEY"] == APPLE_KEY_ARN
    assert "ATELIER_APPLE_PRIVATE_KEY" not in mobile.environment

    pem = "-----BEGIN PRIVATE KEY-----\nMIGT\n-----END PRIVATE KEY-----"
    settings = settings_from({**mobile.environment, "ATELIER_APPLE_PRIVATE_KEY": pem},
                             monkeypatch)
    assert settings.apple_team_id == APPLE_SIGN_IN["team_id"]
    assert settings.apple_key_id == APPLE_SIGN_IN["key_id"]
    assert settings.apple_private_key == pem
    assert str(settings.apple_client_ids).split(",") == APPLE_SIGN_IN["app_client_ids"]
    assert str(settings.google_client_ids).split(",") == GOOGLE_SIGN_IN["app_client_ids"]

    # Least privilege: the key reaches the mobile API's execution role and no other.
    compute = root.module("compute")
    readers = []
    for family, document in compute.instances(
            "data", "aws_iam_policy_document", "execution").items():
        for statement in policy_document(document)["Statement"]:
            if "secretsmanager:GetSecretValue" in statement["Action"] and (
                    APPLE_KEY_ARN in statement["Resource"]):
                readers.append(family)
    assert readers == ["mobile-api"]
    for family, container in tasks.items():
        if family != "mobile-api":
            assert not SIGN_IN_VARIABLES & {*container.environment, *container.secrets}, family


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_without_sign_in_variables_there_is_no_provider_and_no_sign_in_setting(
    env: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = estate(env)  # terraform.tfvars: apple_sign_in = null, google_sign_in = null
    assert social_providers(root) == {"apple": [], "google": []}
    identity = root.module("identity")
    for secret in ("apple_private_key", "google_client_secret"):
        assert identity.instances("data", "aws_secretsmanager_secret_version", secret) == {}
    mobile = containers(root)["mobile-api"]
    assert not SIGN_IN_VARIABLES & {*mobile.environment, *mobile.secrets}
    settings = settings_from(mobile.environment, monkeypatch)
    assert settings.apple_client_ids is None and settings.google_client_ids is None
    assert settings.apple_private_key is None
