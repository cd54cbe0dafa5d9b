"""Running `atelier` as an operator does: a subprocess with a clean environment."""

import os
import subprocess
import sys
from pathlib import Path

ATELIER = str(Path(sys.executable).parent / "atelier")


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ATELIER, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def clean_environment(data_dir: Path) -> dict[str, str]:
    """This process's environment without any Atelier, database or AWS setting."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("ATELIER_", "DATABASE_URL", "REDIS_URL", "AWS_"))}
    return {**clean, "ATELIER_DATA_DIR": str(data_dir)}
