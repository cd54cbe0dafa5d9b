"""Private objects in an S3 bucket; downloads through presigned GET URLs (SigV4)."""

from typing import Any

from botocore.exceptions import ClientError

from adapters.aws.clients import error_code

MISSING = {"NoSuchKey", "404", "NotFound"}


class S3ObjectStore:
    """The client must sign with `signature_version="s3v4"` (presigned URLs need it)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client, self._bucket = client, bucket

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._client.put_object(
            Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    async def get(self, key: str) -> bytes | None:
        try:
            response = await self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error_code(error) in MISSING:
                return None
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def delete(self, key: str) -> None:
        await self._client.delete_object(Bucket=self._bucket, Key=key)

    async def exists(self, key: str) -> bool:
        try:
            await self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error_code(error) in MISSING:
                return False
            raise
        return True

    async def download_url(self, key: str, expires_in: int) -> str:
        url: str = await self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in)
        return url
