"""Signing keys, private halves included, as one JSON document in AWS Secrets Manager."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import aioboto3
from botocore.exceptions import ClientError

from adapters.aws.clients import aws_client, error_code
from adapters.local import keyring_codec
from domain.keys.ring import KeyRing


class SecretsManagerKeyStore:
    """KeyStore in one secret; created on the first save, a new version on every later one."""

    def __init__(self, client: Any, secret_id: str, kms_key_id: str | None = None) -> None:
        self._client, self._secret_id, self._kms_key_id = client, secret_id, kms_key_id

    @classmethod
    @asynccontextmanager
    async def create(
        cls,
        session: aioboto3.Session,
        secret_id: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        kms_key_id: str | None = None,
    ) -> AsyncIterator[Self]:
        async with aws_client(
            session, "secretsmanager", region=region, endpoint_url=endpoint_url
        ) as client:
            yield cls(client, secret_id, kms_key_id)

    async def load(self) -> KeyRing:
        try:
            response = await self._client.get_secret_value(SecretId=self._secret_id)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return KeyRing()
            raise
        return keyring_codec.loads(response["SecretString"])

    async def save(self, ring: KeyRing) -> None:
        document = keyring_codec.dumps(ring)
        try:
            await self._client.put_secret_value(
                SecretId=self._secret_id, SecretString=document
            )
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            await self._create_secret(document)

    async def _create_secret(self, document: str) -> None:
        extra = {"KmsKeyId": self._kms_key_id} if self._kms_key_id else {}
        try:
            await self._client.create_secret(
                Name=self._secret_id,
                SecretString=document,
                Description="Atelier token signing keys (Ed25519, private halves included)",
                **extra,
            )
        except ClientError as exc:
            # Another node created it between our two calls: store our version on top.
            if error_code(exc) != "ResourceExistsException":
                raise
            await self._client.put_secret_value(SecretId=self._secret_id, SecretString=document)
