"""The dependency rule, checked by scanning imports so it cannot rot."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"domain", "application", "adapters", "entrypoints"}


def imports_of(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"domain"}
    bad = [f"{p.relative_to(ROOT)}: {m}" for p, m in imports_of("domain")
           if m.split(".")[0] not in allowed]
    assert bad == []


def test_application_imports_only_domain_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"domain", "application"}
    bad = [f"{p.relative_to(ROOT)}: {m}" for p, m in imports_of("application")
           if m.split(".")[0] not in allowed]
    assert bad == []


@pytest.mark.parametrize("package", ["adapters"])
def test_adapters_never_import_entrypoints(package: str) -> None:
    bad = [f"{p.relative_to(ROOT)}: {m}" for p, m in imports_of(package)
           if m.split(".")[0] == "entrypoints"]
    assert bad == []


def test_the_scan_sees_imports() -> None:
    # Guard against a scan that silently finds nothing.
    modules = {m for _, m in imports_of("application")}
    assert "domain.users.model" in modules
