"""ruff everywhere and mypy --strict over domain/, application/, adapters/ and entrypoints/
are part of the suite."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TYPED_PACKAGES = ["domain", "application", "adapters", "entrypoints"]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_mypy_covers_every_package() -> None:
    """A port is only a comment unless the adapters and the entrypoints are checked too."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert sorted(config["files"]) == sorted(TYPED_PACKAGES)
    # Only libraries that publish no types may be skipped, never our own code.
    for override in config.get("overrides", []):
        assert set(override) == {"module", "ignore_missing_imports"}, override
        modules = override["module"] if isinstance(override["module"], list) else [
            override["module"]]
        assert not [m for m in modules if m.split(".")[0] in TYPED_PACKAGES], modules


def test_mypy_strict_is_clean() -> None:
    result = run(str(BIN / "mypy"), "--no-incremental", "--cache-dir=/dev/null",
                 *TYPED_PACKAGES)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
