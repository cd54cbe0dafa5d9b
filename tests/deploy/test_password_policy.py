"""One password policy: the code's (domain/users/passwords.py) is the Cognito user pool's in
the Terraform, and the README's example password passes both (the pool's rules played by
moto's Cognito, built from the Terraform's `password_policy`)."""

import re

import pytest
from botocore.exceptions import ClientError
from deploy_support import MODULES_DIR, REPO_ROOT, Terraform

from domain.users.model import WeakPassword, check_password
from domain.users.passwords import PASSWORD_POLICY
from tests.fixtures.aws import Aws

POLICY_FIELDS = ("minimum_length", "require_lowercase", "require_uppercase",
                 "require_numbers", "require_symbols")


def terraform_policy(terraform: Terraform) -> dict[str, object]:
    pool = terraform.resource("aws_cognito_user_pool", "this", MODULES_DIR / "identity")
    (policy,) = pool.body["password_policy"]
    return {name: policy[name] for name in POLICY_FIELDS}


def readme_passwords() -> list[str]:
    return re.findall(r'"password": "([^"]+)"', (REPO_ROOT / "README.md").read_text())


def test_the_pool_has_the_codes_policy(terraform: Terraform) -> None:
    assert terraform_policy(terraform) == {
        "minimum_length": PASSWORD_POLICY.min_length,
        "require_lowercase": PASSWORD_POLICY.require_lowercase,
        "require_uppercase": PASSWORD_POLICY.require_uppercase,
        "require_numbers": PASSWORD_POLICY.require_numbers,
        "require_symbols": PASSWORD_POLICY.require_symbols,
    }
    # Length, not composition (NIST SP 800-63B).
    assert PASSWORD_POLICY.min_length >= 12
    assert not any((PASSWORD_POLICY.require_lowercase, PASSWORD_POLICY.require_uppercase,
                    PASSWORD_POLICY.require_numbers, PASSWORD_POLICY.require_symbols))


def test_the_readme_password_passes_the_code() -> None:
    assert readme_passwords()
    for password in readme_passwords():
        assert check_password(password) == password


@pytest.mark.parametrize("password", [
    "eleven char", "123456789012", "aaaaaaaaaaaaaaaa", "Password1234", "abcdefghijklmnop"])
def test_short_common_and_repeated_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password(password)


@pytest.mark.moto
async def test_the_readme_password_passes_the_deployed_pool(
        terraform: Terraform, aws: Aws) -> None:
    policy = terraform_policy(terraform)
    async with aws.client("cognito-idp") as cognito:
        pool = (await cognito.create_user_pool(
            PoolName="atelier-password-policy", UsernameAttributes=["email"],
            Policies={"PasswordPolicy": {
                "MinimumLength": policy["minimum_length"],
                "RequireLowercase": policy["require_lowercase"],
                "RequireUppercase": policy["require_uppercase"],
                "RequireNumbers": policy["require_numbers"],
                "RequireSymbols": policy["require_symbols"]}}))["UserPool"]
        client_id = (await cognito.create_user_pool_client(
            UserPoolId=pool["Id"], ClientName="mobile", GenerateSecret=False,
        ))["UserPoolClient"]["ClientId"]
        for n, password in enumerate(readme_passwords()):
            await cognito.sign_up(ClientId=client_id, Username=f"reader{n}@example.com",
                                  Password=password)
        with pytest.raises(ClientError) as refused:
            await cognito.sign_up(ClientId=client_id, Username="short@example.com",
                                  Password="eleven char")
        assert refused.value.response["Error"]["Code"] == "InvalidPasswordException"
