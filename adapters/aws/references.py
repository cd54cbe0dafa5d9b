"""Settings values that point at Parameter Store or Secrets Manager, resolved at start-up.

`ssm:/path` is replaced by the parameter's (decrypted) value; `secretsmanager:<arn-or-name>`
by the secret's SecretString. A parameter whose value is itself `secretsmanager:<arn>` is
followed one more step: Parameter Store holds the ARN, one pipeline serves every environment.

The services resolve with aioboto3 (`resolve_references`); a Lambda function resolves with
the boto3 its runtime ships (`resolve_with_boto3`), through the same steps. Nothing AWS is
imported until a reference is resolved, so a Lambda cold start without one pays nothing.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aioboto3

# Opens a client of one service ("ssm", "secretsmanager") whose API methods are awaitable.
OpenClient = Callable[[str], AbstractAsyncContextManager[Any]]

SSM_PREFIX = "ssm:"
SECRETS_PREFIX = "secretsmanager:"
REFERENCE_PREFIXES = (SSM_PREFIX, SECRETS_PREFIX)
SSM_BATCH = 10  # get_parameters takes at most 10 names per call


class ReferenceNotFound(LookupError):
    """A settings reference names a parameter or secret that does not exist."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"settings reference not found: {reference}")
        self.reference = reference


async def resolve_references(
    values: dict[str, str],
    session: "aioboto3.Session",
    endpoint_url: str | None,
    region: str,
) -> dict[str, str]:
    """A copy of `values` with every reference replaced by what it points at."""
    return await resolve_with(values, lambda service: session.client(
        service, region_name=region, endpoint_url=endpoint_url))


async def resolve_with_boto3(
    values: dict[str, str], endpoint_url: str | None, region: str | None,
) -> dict[str, str]:
    """`resolve_references` with blocking boto3 clients (a Lambda runtime's own boto3)."""
    import boto3  # type: ignore[import-untyped]

    session = boto3.session.Session()

    @asynccontextmanager
    async def open_client(service: str) -> AsyncIterator[Any]:
        client = session.client(service, region_name=region, endpoint_url=endpoint_url)
        try:
            yield _Awaitable(client)
        finally:
            client.close()

    return await resolve_with(values, open_client)


class _Awaitable:
    """A blocking boto3 client whose API methods can be awaited (one call at a time)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        async def call(**kwargs: Any) -> Any:
            return method(**kwargs)

        return call


async def resolve_with(values: dict[str, str], open_client: OpenClient) -> dict[str, str]:
    """`values` with every reference resolved through clients `open_client` opens."""
    ssm_names = sorted({v[len(SSM_PREFIX):] for v in values.values() if v.startswith(SSM_PREFIX)})
    secret_ids = {v[len(SECRETS_PREFIX):] for v in values.values() if v.startswith(SECRETS_PREFIX)}
    if not ssm_names and not secret_ids:
        return dict(values)

    parameters: dict[str, str] = {}
    if ssm_names:
        async with open_client("ssm") as ssm:
            parameters = await _get_parameters(ssm, ssm_names)
    secret_ids |= {
        v[len(SECRETS_PREFIX):] for v in parameters.values() if v.startswith(SECRETS_PREFIX)
    }
    secrets: dict[str, str] = {}
    if secret_ids:
        async with open_client("secretsmanager") as secretsmanager:
            for secret_id in sorted(secret_ids):
                secrets[secret_id] = await _get_secret(secretsmanager, secret_id)

    def resolve(value: str) -> str:
        if value.startswith(SSM_PREFIX):
            value = parameters[value[len(SSM_PREFIX):]]
        if value.startswith(SECRETS_PREFIX):
            value = secrets[value[len(SECRETS_PREFIX):]]
        return value

    return {name: resolve(value) for name, value in values.items()}


async def _get_parameters(ssm: Any, names: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(names), SSM_BATCH):
        batch = names[start:start + SSM_BATCH]
        response = await ssm.get_parameters(Names=batch, WithDecryption=True)
        if response.get("InvalidParameters"):
            raise ReferenceNotFound(f"{SSM_PREFIX}{response['InvalidParameters'][0]}")
        for parameter in response["Parameters"]:
            # `/name:3` comes back as Name `/name` with Selector `:3`.
            found[parameter["Name"] + parameter.get("Selector", "")] = parameter["Value"]
    missing = [name for name in names if name not in found]
    if missing:
        raise ReferenceNotFound(f"{SSM_PREFIX}{missing[0]}")
    return found


async def _get_secret(secretsmanager: Any, secret_id: str) -> str:
    from botocore.exceptions import ClientError

    try:
        response = await secretsmanager.get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise ReferenceNotFound(f"{SECRETS_PREFIX}{secret_id}") from None
        raise
    if "SecretString" not in response:
        raise ReferenceNotFound(f"{SECRETS_PREFIX}{secret_id} (a binary secret, not a string)")
    value: str = response["SecretString"]
    return value
