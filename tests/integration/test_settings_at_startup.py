"""A setting that names Parameter Store -> Secrets Manager is resolved when the app starts."""

from pathlib import Path

import pytest

from adapters.sql.migrate import upgrade_database
from entrypoints.wiring.resources import resolve_settings
from entrypoints.wiring.settings import Settings
from tests.fixtures.aws import Aws
from tests.support.phone import new_guest
from tests.support.stack import running_stack


async def test_database_url_from_ssm_pointing_at_secrets_manager(
    aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'from-secret.db'}"
    async with aws.client("secretsmanager") as secrets:
        arn = (await secrets.create_secret(Name="atelier/dev/database-url",
                                           SecretString=database_url))["ARN"]
    async with aws.client("ssm") as ssm:
        await ssm.put_parameter(Name="/atelier/dev/database-url", Value=f"secretsmanager:{arn}",
                                Type="String")
        await ssm.put_parameter(Name="/atelier/dev/issuer", Value="https://api.example.com",
                                Type="SecureString")

    settings = await resolve_settings(Settings.model_validate({
        "database_url": "ssm:/atelier/dev/database-url", "issuer": "ssm:/atelier/dev/issuer",
        "aws_endpoint_url": aws.endpoint_url, "aws_region": aws.region,
    }))

    assert settings.database_url == database_url
    assert settings.issuer == "https://api.example.com"
    await upgrade_database(settings.sql_url)
    async with running_stack(tmp_path / "data", settings.sql_url) as stack:
        assert (await new_guest(stack.client))["user"]["kind"] == "guest"


async def test_a_missing_reference_stops_start_up_without_leaking(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with pytest.raises(LookupError) as missing:
        await resolve_settings(Settings.model_validate({
            "database_url": "ssm:/atelier/nope", "aws_endpoint_url": aws.endpoint_url}))
    assert "/atelier/nope" in str(missing.value)
