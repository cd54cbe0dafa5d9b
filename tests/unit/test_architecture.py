"""The dependency rule, checked by scanning imports so it cannot rot."""

import ast
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import containers, providers

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


# Composition roots with a reason to build adapters outside entrypoints/wiring/.
OWN_ROOTS = {
    # The Cognito triggers start in a Lambda without the web stack or dependency-injector.
    "entrypoints/lambdas/bootstrap.py",
}


def adapter_imports_outside_the_wiring() -> list[tuple[str, str, list[str]]]:
    found = []
    for path in sorted((ROOT / "entrypoints").rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[:2] == ("entrypoints", "wiring") or str(relative) in OWN_ROOTS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found += [(str(relative), alias.name, ["*"]) for alias in node.names
                          if alias.name.split(".")[0] == "adapters"]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.split(".")[0] == "adapters":
                found.append((str(relative), node.module, [a.name for a in node.names]))
    return found


def test_only_the_wiring_builds_adapters() -> None:
    """Entrypoint containers, apps, routes, the CLI and `atelier dev` get adapters from the
    infrastructure container; outside entrypoints/wiring/ they may import an adapter's
    exception classes (to catch them) and nothing else."""
    bad = []
    for where, module, names in adapter_imports_outside_the_wiring():
        imported = importlib.import_module(module)
        for name in names:
            value = getattr(imported, name, None)
            if not (isinstance(value, type) and issubclass(value, BaseException)):
                bad.append(f"{where}: {module}.{name}")
    assert bad == []


def test_the_adapter_scan_sees_imports() -> None:
    assert ("entrypoints/mobile_api/auth.py", "adapters.crypto.eddsa", ["InvalidToken"]) in \
        adapter_imports_outside_the_wiring()


def entrypoint_containers() -> list[type[containers.DeclarativeContainer]]:
    from entrypoints.admin_api.container import AdminContainer
    from entrypoints.cli.container import CliContainer
    from entrypoints.console.container import ConsoleContainer
    from entrypoints.edge_gateway.container import GatewayContainer
    from entrypoints.image_worker.container import WorkerContainer
    from entrypoints.mobile_api.container import MobileContainer

    return [MobileContainer, AdminContainer, GatewayContainer, WorkerContainer, CliContainer,
            ConsoleContainer]


@pytest.mark.parametrize("container", entrypoint_containers(), ids=lambda c: c.__name__)
def test_entrypoint_containers_wire_use_cases_only(
    container: type[containers.DeclarativeContainer],
) -> None:
    """No provider of an entrypoint container makes an adapter, and none is a resource:
    long-lived clients live in the infrastructure, started and closed once per process."""
    every_provider: list[type[providers.Provider[Any]]] = [providers.Provider]
    built = list(providers.traverse(*container.cls_providers.values(), types=every_provider))
    made = [getattr(p, "provides", None) for p in built if not isinstance(p, providers.Object)]
    makes_adapters = [f"{m.__module__}.{m.__qualname__}" for m in made
                      if m is not None and getattr(m, "__module__", "").startswith("adapters.")]
    assert built
    resources = [p for p in built if isinstance(p, providers.Resource)]
    assert makes_adapters == [] and resources == []
