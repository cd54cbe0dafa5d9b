"""ruff everywhere and mypy --strict on domain/ and application/ are part of the suite."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_mypy_strict_is_clean_on_domain_and_application() -> None:
    result = run(str(BIN / "mypy"), "--no-incremental", "--cache-dir=/dev/null")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
