"""Settings references resolved against Parameter Store and Secrets Manager (moto server)."""

import aioboto3
import pytest

from adapters.aws.references import ReferenceNotFound, resolve_references
from tests.fixtures.aws import Aws

pytestmark = pytest.mark.moto


async def resolve(aws: Aws, values: dict[str, str]) -> dict[str, str]:
    return await resolve_references(values, aws.session, aws.endpoint_url, aws.region)


async def test_plain_values_are_untouched_and_need_no_aws() -> None:
    values = {"DATABASE_URL": "sqlite:///x.db", "NAME": "ssm-like but not ssm:"}
    unused_session = aioboto3.Session(aws_access_key_id="x", aws_secret_access_key="x")
    resolved = await resolve_references(values, unused_session, "http://127.0.0.1:9", "us-east-1")
    assert resolved == values


async def test_ssm_string_and_secure_string(aws: Aws) -> None:
    async with aws.client("ssm") as ssm:
        await ssm.put_parameter(Name="/atelier/prod/region", Value="eu-west-1", Type="String")
        await ssm.put_parameter(
            Name="/atelier/prod/openai-key", Value="sk-secret", Type="SecureString")
    resolved = await resolve(aws, {
        "REGION": "ssm:/atelier/prod/region",
        "OPENAI_API_KEY": "ssm:/atelier/prod/openai-key",
        "PLAIN": "kept",
    })
    assert resolved == {"REGION": "eu-west-1", "OPENAI_API_KEY": "sk-secret", "PLAIN": "kept"}


async def test_more_than_ten_parameters_are_fetched_in_batches(aws: Aws) -> None:
    async with aws.client("ssm") as ssm:
        for i in range(23):
            await ssm.put_parameter(Name=f"/atelier/p{i}", Value=f"v{i}", Type="String")
    resolved = await resolve(aws, {f"K{i}": f"ssm:/atelier/p{i}" for i in range(23)})
    assert resolved == {f"K{i}": f"v{i}" for i in range(23)}


async def test_secretsmanager_by_name_and_by_arn(aws: Aws) -> None:
    async with aws.client("secretsmanager") as sm:
        created = await sm.create_secret(Name="atelier/db", SecretString="postgres://u:p@h/db")
    resolved = await resolve(aws, {
        "BY_NAME": "secretsmanager:atelier/db",
        "BY_ARN": f"secretsmanager:{created['ARN']}",
    })
    assert resolved == {"BY_NAME": "postgres://u:p@h/db", "BY_ARN": "postgres://u:p@h/db"}


async def test_ssm_holding_a_secret_arn_is_followed(aws: Aws) -> None:
    async with aws.client("secretsmanager") as sm:
        created = await sm.create_secret(Name="atelier/prod/db", SecretString="the-password")
    async with aws.client("ssm") as ssm:
        await ssm.put_parameter(
            Name="/atelier/prod/db-secret", Value=f"secretsmanager:{created['ARN']}",
            Type="String")
    resolved = await resolve(aws, {"DATABASE_PASSWORD": "ssm:/atelier/prod/db-secret"})
    assert resolved == {"DATABASE_PASSWORD": "the-password"}


async def test_missing_parameter_names_the_reference(aws: Aws) -> None:
    async with aws.client("ssm") as ssm:
        await ssm.put_parameter(Name="/atelier/there", Value="top-secret-value", Type="String")
    with pytest.raises(ReferenceNotFound) as caught:
        await resolve(aws, {"A": "ssm:/atelier/there", "B": "ssm:/atelier/missing"})
    assert caught.value.reference == "ssm:/atelier/missing"
    assert "ssm:/atelier/missing" in str(caught.value)
    assert "top-secret-value" not in str(caught.value)


async def test_missing_secret_names_the_reference(aws: Aws) -> None:
    with pytest.raises(ReferenceNotFound) as caught:
        await resolve(aws, {"A": "secretsmanager:atelier/nope"})
    assert caught.value.reference == "secretsmanager:atelier/nope"


async def test_missing_secret_behind_a_parameter_names_the_secret(aws: Aws) -> None:
    async with aws.client("ssm") as ssm:
        await ssm.put_parameter(
            Name="/atelier/points", Value="secretsmanager:atelier/gone", Type="String")
    with pytest.raises(ReferenceNotFound, match="secretsmanager:atelier/gone"):
        await resolve(aws, {"A": "ssm:/atelier/points"})
