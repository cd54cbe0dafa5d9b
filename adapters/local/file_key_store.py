"""Signing keys in a local JSON file that only its owner may read (mode 0600)."""

import asyncio
import os
import secrets
import stat
from pathlib import Path

from adapters.local import keyring_codec
from domain.keys.ring import KeyRing


class InsecureKeyFile(PermissionError):
    """The key file can be read or written by someone other than its owner."""


class FileKeyStore:
    """KeyStore kept in one file, replaced atomically on every save."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)

    @property
    def path(self) -> Path:
        return self._path

    async def load(self) -> KeyRing:
        return await asyncio.to_thread(self._load)

    async def save(self, ring: KeyRing) -> None:
        await asyncio.to_thread(self._save, keyring_codec.dumps(ring))

    def _load(self) -> KeyRing:
        try:
            fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return KeyRing()
        with os.fdopen(fd, "r", encoding="utf-8") as file:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & 0o077:
                raise InsecureKeyFile(
                    f"refusing to load signing keys from {self._path}: its mode is "
                    f"{mode:04o}, readable beyond its owner; run `chmod 600 {self._path}` "
                    "and consider rotating the keys"
                )
            return keyring_codec.loads(file.read())

    def _save(self, text: str) -> None:
        directory = self._path.parent
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = directory / f".{self._path.name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Makes the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
