"""The embedded default's object store: files under the data dir, downloaded through
expiring HMAC-signed URLs that the mobile API serves (`GET /v1/api/files/{key}`)."""

import asyncio
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from domain.images.errors import ImageNotFound, SignedUrlExpired, SignedUrlRefused

FILES_PATH = "/v1/api/files"


def check_key(key: str) -> PurePosixPath:
    """Keys are relative paths of plain segments: no `..`, no absolute paths."""
    path = PurePosixPath(key)
    if (not key or path.is_absolute() or any(p in ("", ".", "..") for p in key.split("/"))
            or "\\" in key or "\x00" in key):
        raise ValueError(f"invalid object key {key!r}")
    return path


def load_or_create_secret(path: Path) -> bytes:
    """The URL-signing secret, made once (mode 0600) and shared by every process."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(32))
        return path.read_bytes()


class FilesystemObjectStore:
    """Private files under `root`; `download_url` signs (key, expiry) with HMAC-SHA256."""

    def __init__(
        self, root: Path, secret: bytes, base_url: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._root, self._secret = root, secret
        self._base_url, self._clock = base_url.rstrip("/"), clock

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*check_key(key).parts)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)  # a reader sees the old file or the new, never half

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def download_url(self, key: str, expires_in: int) -> str:
        check_key(key)
        expires = int(self._clock()) + expires_in
        signature = self._sign(key, expires)
        return f"{self._base_url}{FILES_PATH}/{quote(key)}?expires={expires}&sig={signature}"

    async def read_signed(self, key: str, expires: int, signature: str) -> bytes:
        try:
            check_key(key)
        except ValueError:
            raise SignedUrlRefused() from None
        if not hmac.compare_digest(self._sign(key, expires).encode(), signature.encode()):
            raise SignedUrlRefused()
        if self._clock() >= expires:
            raise SignedUrlExpired()
        data = await self.get(key)
        if data is None:
            raise ImageNotFound()
        return data

    def _sign(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
