"""The estate's AWS resources made on the moto server under the names the Terraform gives
them, as a fresh `terraform apply` leaves them: the queue and its DLQ (redrive policy),
the images bucket, the secrets (the signing key ring without a value, the connection URLs
with theirs), the user pool with its app clients (the console's with its hosted UI
callback) and `admins` group, the SES domain and its
configuration set, the customer key. Returns what only the apply knows (ARNs, URLs, ids),
by Terraform address, for terraform_eval."""

from __future__ import annotations

import json
from typing import Any

from terraform_eval import Module

from tests.fixtures.aws import Aws


async def provision(aws: Aws, root: Module, values: dict[str, str]) -> dict[str, Any]:
    """`values`: the secret values by secret key (database-url, redis-url, openai-api-key);
    a secret left out stays without a value (the signing key ring on a fresh estate)."""
    known: dict[str, Any] = {}
    env = root.local("name")
    queue, identity, data, security = (root.module(m) for m in (
        "queue", "identity", "data", "security"))

    async with aws.client("kms") as kms:
        key = (await kms.create_key(Description=f"{env} main"))["KeyMetadata"]
    known["aws_kms_key.main.arn"] = key["Arn"]
    known["aws_kms_key.main.key_id"] = key["KeyId"]

    async with aws.client("sqs") as sqs:
        for name in ("dlq", "jobs"):
            (resource,) = queue.instances("resource", "aws_sqs_queue", name).values()
            attributes: dict[str, str] = {}
            if name == "jobs":
                attributes["RedrivePolicy"] = json.dumps({
                    "deadLetterTargetArn": known["aws_sqs_queue.dlq.arn"],
                    "maxReceiveCount": str(queue.var("max_receive_count"))})
                attributes["VisibilityTimeout"] = str(queue.var("visibility_timeout_seconds"))
            queue_name = str(resource.argument("name"))
            url = (await sqs.create_queue(QueueName=queue_name, Attributes=attributes))[
                "QueueUrl"]
            arn = (await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]))[
                "Attributes"]["QueueArn"]
            known.update({f"aws_sqs_queue.{name}.id": url, f"aws_sqs_queue.{name}.url": url,
                          f"aws_sqs_queue.{name}.arn": arn})

    bucket = f"{env}-images-moto"  # the Terraform sets only a bucket_prefix
    async with aws.client("s3") as s3:
        await s3.create_bucket(Bucket=bucket)
    known.update({"aws_s3_bucket.images.id": bucket, "aws_s3_bucket.images.bucket": bucket,
                  "aws_s3_bucket.images.arn": f"arn:aws:s3:::{bucket}"})

    async with aws.client("secretsmanager") as secrets:
        for module, resource_name in ((security, "app"), (data, "connection")):
            for key_name, secret in module.instances(
                    "resource", "aws_secretsmanager_secret", resource_name).items():
                extra = ({"SecretString": values[key_name]} if key_name in values else {})
                created = await secrets.create_secret(
                    Name=str(secret.argument("name")), KmsKeyId=key["Arn"], **extra)
                address = f"aws_secretsmanager_secret.{resource_name}[{json.dumps(key_name)}]"
                known[f"{address}.arn"] = known[f"{address}.id"] = created["ARN"]

    async with aws.client("cognito-idp") as cognito:
        (pool_block,) = identity.instances("resource", "aws_cognito_user_pool", "this").values()
        (policy,) = pool_block.nested("password_policy")
        pool = (await cognito.create_user_pool(
            PoolName=str(pool_block.argument("name")),
            AutoVerifiedAttributes=["email"], UsernameAttributes=["email"],
            Policies={"PasswordPolicy": {
                "MinimumLength": policy["minimum_length"],
                "RequireLowercase": policy["require_lowercase"],
                "RequireUppercase": policy["require_uppercase"],
                "RequireNumbers": policy["require_numbers"],
                "RequireSymbols": policy["require_symbols"]}}))["UserPool"]
        known.update({"aws_cognito_user_pool.this.id": pool["Id"],
                      "aws_cognito_user_pool.this.arn": pool["Arn"]})
        for client_name in ("mobile", "admin", "console"):
            (client_block,) = identity.instances(
                "resource", "aws_cognito_user_pool_client", client_name).values()
            oauth = {}
            if client_block.argument("allowed_oauth_flows_user_pool_client"):
                oauth = {"AllowedOAuthFlowsUserPoolClient": True,
                         "AllowedOAuthFlows": list(client_block.argument("allowed_oauth_flows")),
                         "AllowedOAuthScopes": list(
                             client_block.argument("allowed_oauth_scopes")),
                         "CallbackURLs": list(client_block.argument("callback_urls")),
                         "SupportedIdentityProviders": ["COGNITO"]}
            client = (await cognito.create_user_pool_client(
                UserPoolId=pool["Id"], ClientName=str(client_block.argument("name")),
                GenerateSecret=False,
                ExplicitAuthFlows=list(client_block.argument("explicit_auth_flows")), **oauth))
            known[f"aws_cognito_user_pool_client.{client_name}.id"] = client[
                "UserPoolClient"]["ClientId"]
        await cognito.create_group(GroupName="admins", UserPoolId=pool["Id"])

    domain = str(queue.var("ses_domain"))
    async with aws.client("ses") as ses:
        await ses.verify_domain_identity(Domain=domain)
    configuration_set = str(root.module("queue").instances(
        "resource", "aws_sesv2_configuration_set", "this")[None].argument(
        "configuration_set_name"))
    async with aws.client("sesv2") as sesv2:
        await sesv2.create_configuration_set(ConfigurationSetName=configuration_set)
    known["aws_sesv2_email_identity.domain.arn"] = (
        f"arn:aws:ses:{aws.region}:123456789012:identity/{domain}")
    return known
