"""The embedded default's data folder is its owner's alone: 0700 folders, 0600 files.

It holds the database (hashes of 6-digit codes, trivially reversed), the URL-signing secret,
the queue and the mailbox. `mkdir(mode=...)` leaves a folder that already exists as it was,
and files keep the mode they were created with, so the whole tree is tightened on start.
"""

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
# The signing-key store refuses a key file others could read and says to rotate the keys:
# tightening it here would hide that.
LEFT_TO_ITS_STORE = frozenset({"signing-keys.json"})


def tighten_data_dir(root: Path) -> None:
    """Create `root` if missing, then make it and everything under it owner-only."""
    root.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(root, PRIVATE_DIR)
    for directory, subdirectories, files in os.walk(root):
        for name in subdirectories:
            _tighten(Path(directory, name), PRIVATE_DIR)
        for name in files:
            if name not in LEFT_TO_ITS_STORE:
                _tighten(Path(directory, name), PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    try:
        found = path.lstat()
        if stat.S_ISLNK(found.st_mode) or stat.S_IMODE(found.st_mode) & ~mode == 0:
            return  # a link is not followed; a mode already as tight is kept
        path.chmod(stat.S_IMODE(found.st_mode) & mode)
    except FileNotFoundError:
        return  # removed meanwhile (a SQLite journal, say)
    except PermissionError:
        log.warning("cannot make %s private: it belongs to another user", path)
        return
    log.warning("%s was readable beyond its owner (mode %04o); it is now %04o",
                path, stat.S_IMODE(found.st_mode), stat.S_IMODE(found.st_mode) & mode)
