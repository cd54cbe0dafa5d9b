"""One contract for every ObjectStore: memory, the filesystem, S3 (moto)."""

import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from botocore.config import Config

from adapters.aws.s3_object_store import S3ObjectStore
from adapters.local.object_store import FilesystemObjectStore, check_key
from adapters.memory.object_store import InMemoryObjectStore
from application.ports.images import ObjectStore
from domain.images.errors import ImageNotFound, SignedUrlExpired, SignedUrlRefused
from tests.fixtures.aws import Aws

KEY = "images/user-1/image-1.png"
PNG = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64)


@pytest.fixture(params=["memory", "filesystem", pytest.param("s3", marks=pytest.mark.moto)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    if request.param == "memory":
        yield InMemoryObjectStore()
    elif request.param == "filesystem":
        yield FilesystemObjectStore(tmp_path / "objects", b"k" * 32, "http://files.test")
    else:
        aws: Aws = request.getfixturevalue("aws")
        async with aws.session.client("s3", region_name=aws.region,
                                      endpoint_url=aws.endpoint_url,
                                      config=Config(signature_version="s3v4")) as client:
            bucket = f"images-{secrets.token_hex(4)}"
            await client.create_bucket(Bucket=bucket)
            yield S3ObjectStore(client, bucket)


async def test_put_get_exists_delete(store: ObjectStore) -> None:
    assert await store.get(KEY) is None and not await store.exists(KEY)
    await store.put(KEY, PNG, "image/png")
    assert await store.get(KEY) == PNG and await store.exists(KEY)
    await store.put(KEY, PNG + b"2", "image/png")  # a redelivered job overwrites
    assert await store.get(KEY) == PNG + b"2"
    await store.delete(KEY)
    assert await store.get(KEY) is None and not await store.exists(KEY)
    await store.delete(KEY)  # deleting what is gone is fine


async def test_download_urls_name_the_object_and_expire(store: ObjectStore) -> None:
    await store.put(KEY, PNG, "image/png")
    url = await store.download_url(KEY, 60)
    assert "image-1.png" in url
    assert url != await store.download_url(KEY, 120)


@pytest.mark.moto
async def test_s3_presigned_urls_download_the_private_object(aws: Aws) -> None:
    async with aws.session.client("s3", region_name=aws.region, endpoint_url=aws.endpoint_url,
                                  config=Config(signature_version="s3v4")) as client:
        await client.create_bucket(Bucket="private-images")
        store = S3ObjectStore(client, "private-images")
        await store.put(KEY, PNG, "image/png")
        url = await store.download_url(KEY, 60)
        assert "X-Amz-Signature=" in url and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
        assert response.status_code == 200 and response.content == PNG
        assert response.headers["content-type"] == "image/png"


async def test_filesystem_signed_urls_expire_and_refuse_tampering(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = FilesystemObjectStore(tmp_path, b"s" * 32, "", clock=lambda: now[0])
    await store.put(KEY, PNG, "image/png")
    url = await store.download_url(KEY, 60)
    assert url.startswith("/v1/api/files/images/user-1/image-1.png?expires=")
    expires = int(url.split("expires=")[1].split("&")[0])
    sig = url.split("sig=")[1]
    assert await store.read_signed(KEY, expires, sig) == PNG
    with pytest.raises(SignedUrlRefused):
        await store.read_signed(KEY, expires + 1, sig)
    with pytest.raises(SignedUrlRefused):
        await store.read_signed("images/user-2/image-1.png", expires, sig)
    with pytest.raises(SignedUrlRefused):
        await store.read_signed("../secret", expires, sig)
    other = FilesystemObjectStore(tmp_path, b"t" * 32, "", clock=lambda: now[0])
    with pytest.raises(SignedUrlRefused):
        await other.read_signed(KEY, expires, sig)
    now[0] += 61
    with pytest.raises(SignedUrlExpired):
        await store.read_signed(KEY, expires, sig)
    now[0] -= 61
    await store.delete(KEY)
    with pytest.raises(ImageNotFound):
        await store.read_signed(KEY, expires, sig)


@pytest.mark.parametrize("key", ["", "/etc/passwd", "a/../b", "a//b", "./a", "a\\b"])
def test_filesystem_keys_cannot_escape_the_root(key: str) -> None:
    with pytest.raises(ValueError):
        check_key(key)


def test_filesystem_files_are_private(tmp_path: Path) -> None:
    import asyncio

    store = FilesystemObjectStore(tmp_path, b"s" * 32, "", clock=time.time)
    asyncio.run(store.put(KEY, PNG, "image/png"))
    assert (tmp_path / KEY).stat().st_mode & 0o077 == 0
