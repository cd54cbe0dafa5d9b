"""The refresh tokens' MAC key of the embedded default: random, in a file only its owner
may read (mode 0600), made on first start."""

import os
import secrets
import stat
from pathlib import Path

from adapters.local.file_key_store import InsecureKeyFile


def load_or_create_key(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return _read(path)


def _read(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "r", encoding="ascii") as file:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            raise InsecureKeyFile(
                f"refusing to load the refresh token key from {path}: its mode is "
                f"{mode:04o}, readable beyond its owner; run `chmod 600 {path}`")
        return file.read().strip().encode()
