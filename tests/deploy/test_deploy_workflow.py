"""The pipelines (.github/workflows: deploy, rollback, ci, test), their scripts
(deploy/pipeline) and the runbook (docs/deploy.md)."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

import pytest
import yaml
from deploy_support import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "deploy.yml"
PIPELINE = REPO_ROOT / "deploy" / "pipeline"
DOCS = REPO_ROOT / "docs" / "deploy.md"
TARGETS = {"mobile-api", "admin-api", "gateway", "console", "worker", "migrate"}

# Paths a step may name although they are not committed: build outputs of earlier steps.
GENERATED = {
    "deploy/lambda/build/cognito_triggers.zip": "written by deploy/lambda/build.py (gitignored)",
}
PATH_TOKEN = re.compile(r"(?<![\w./$-])((?:scripts|deploy|docs|tests|\.github)/[\w./-]*\w)")
SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"aws_secret_access_key|aws-secret-access-key", re.I),
    "password literal": re.compile(r"password\s*[:=]", re.I),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GitHub secret": re.compile(r"\$\{\{\s*secrets\.", re.I),
    "long-lived key input": re.compile(r"aws-access-key-id", re.I),
    "account-specific ARN": re.compile(r"arn:aws:iam::\d{12}:"),
}


def _load(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return _load("deploy.yml")


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as True


def _steps(workflow: dict[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job, step)
        for job, body in workflow["jobs"].items()
        for step in body.get("steps", [])  # a `uses:` job calls another workflow
    ]


def _runs(workflow: dict[Any, Any]) -> str:
    return "\n".join(step.get("run", "") for _, step in _steps(workflow))


def _scripts() -> str:
    return "\n".join(p.read_text() for p in sorted(PIPELINE.glob("*.sh")))


def test_workflow_is_dispatched_with_an_environment(workflow: dict[Any, Any]) -> None:
    triggers = _triggers(workflow)
    assert set(triggers) == {"workflow_dispatch"}
    environment = triggers["workflow_dispatch"]["inputs"]["environment"]
    assert environment["type"] == "choice"
    assert set(environment["options"]) == {"dev", "prod"}
    assert workflow["permissions"] == {"contents": "read"}


def test_one_approval_per_deploy() -> None:
    """Required reviewers are asked once per job that names the environment."""
    for name in ("deploy.yml", "rollback.yml"):
        jobs = _load(name)["jobs"]
        gated = [job for job, body in jobs.items() if "environment" in body]
        assert len(gated) == 1, f"{name}: environment on {gated}"
        assert "strategy" not in jobs[gated[0]], f"{name}: a matrix job asks once per leg"


def test_deploy_covers_test_build_migrate_roll_and_lambda(workflow: dict[Any, Any]) -> None:
    jobs = workflow["jobs"]
    assert {"test", "lambda", "deploy"} <= set(jobs)
    assert jobs["test"]["uses"] == "./.github/workflows/test.yml"
    assert set(jobs["deploy"]["needs"]) == {"test", "lambda"}
    assert "scripts/test" in _runs(_load("test.yml"))
    runs = _runs(workflow)
    assert "deploy/lambda/build.py" in runs
    assert "aws lambda update-function-code" in runs
    bake = next(s for _, s in _steps(workflow) if s.get("uses", "").startswith("docker/bake"))
    assert bake["with"]["files"] == "deploy/docker/docker-bake.hcl"
    scripts = _scripts()
    assert "aws ecs run-task" in scripts and "aws ecs update-service" in scripts
    assert "aws ssm get-parameter" in scripts and "secretsmanager describe-secret" in scripts
    # Migrations run before the services roll, and the tag is published last.
    names = [step.get("name", "") for step in jobs["deploy"]["steps"]]
    migrate = next(i for i, n in enumerate(names) if "migration" in n.lower())
    roll = next(i for i, n in enumerate(names) if "roll" in n.lower())
    publish = next(i for i, n in enumerate(names) if "publish" in n.lower())
    assert migrate < roll < publish


def test_waits_are_bounded_by_the_pipeline_not_by_aws_cli_waiters() -> None:
    """`aws ecs wait` gives up after 10 minutes (and calls a rolled-back service stable)."""
    for path in [*WORKFLOWS.glob("*.yml"), *PIPELINE.glob("*.sh")]:
        assert not re.search(r"^[^#\n]*aws ecs wait", path.read_text(), re.M), path.name
    scripts = _scripts()
    assert "until_deadline" in (PIPELINE / "run-task.sh").read_text()
    roll = (PIPELINE / "roll-services.sh").read_text()
    assert "until_deadline" in roll and "rolloutState" in roll and "FAILED" in roll
    assert "TASK_TIMEOUT_SECONDS" in scripts and "ROLL_TIMEOUT_SECONDS" in scripts
    deploy = _load("deploy.yml")["jobs"]["deploy"]
    budget = 2 * int(deploy["env"]["TASK_TIMEOUT_SECONDS"]) + int(
        deploy["env"]["ROLL_TIMEOUT_SECONDS"]
    )
    assert deploy["timeout-minutes"] * 60 > budget
    credentials = next(
        s for s in deploy["steps"] if s.get("uses", "").startswith("aws-actions/configure")
    )
    assert int(credentials["with"]["role-duration-seconds"]) > budget


def test_pipeline_scripts_are_valid_bash() -> None:
    scripts = sorted(PIPELINE.glob("*.sh"))
    assert len(scripts) >= 6
    for script in scripts:
        completed = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert completed.returncode == 0, f"{script.name}: {completed.stderr}"
        if script.name != "lib.sh":
            assert os.access(script, os.X_OK), f"{script.name} is not executable"


def test_rollback_reuses_existing_images_and_runs_no_migration() -> None:
    rollback = _load("rollback.yml")
    inputs = _triggers(rollback)["workflow_dispatch"]["inputs"]
    assert {"environment", "image_tag"} <= set(inputs)
    runs = _runs(rollback)
    assert "check-images.sh" in runs and "--require" in runs
    assert "register-revisions.sh" in runs and "roll-services.sh" in runs
    assert "publish-tag.sh" in runs
    assert "run-task" not in runs and "build" not in runs.lower()
    assert not [s for _, s in _steps(rollback) if "docker/" in s.get("uses", "")]


def test_pull_requests_run_the_suite_and_plan_every_environment() -> None:
    ci = _load("ci.yml")
    assert set(_triggers(ci)) == {"pull_request"}
    assert ci["jobs"]["test"]["uses"] == "./.github/workflows/test.yml"
    plan = ci["jobs"]["plan"]
    assert set(plan["strategy"]["matrix"]["environment"]) == {"dev", "prod"}
    runs = _runs(ci)
    assert "terraform init" in runs and "-lockfile=readonly" in runs
    assert "terraform plan" in runs and "-lock=false" in runs
    assert "terraform fmt -check" in runs
    assert plan["permissions"]["id-token"] == "write"


def test_aws_access_is_oidc_per_environment() -> None:
    for name, job in (("deploy.yml", "deploy"), ("rollback.yml", "rollback")):
        body = _load(name)["jobs"][job]
        assert body["permissions"]["id-token"] == "write"
        assert body["environment"] == "${{ inputs.environment }}"
        (credentials,) = [
            s
            for s in body["steps"]
            if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        ]
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "id-token" not in _load("test.yml")["jobs"]["test"].get("permissions", {})


ALL_WORKFLOWS = ("deploy.yml", "rollback.yml", "ci.yml", "test.yml")


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_every_step_references_files_that_exist(name: str) -> None:
    missing = []
    for job, step in _steps(_load(name)):
        texts = [step.get("run", "")]
        texts += [str(v) for v in (step.get("with") or {}).values()]
        for text in texts:
            for token in PATH_TOKEN.findall(text):
                if token in GENERATED:
                    continue
                if not (REPO_ROOT / token).exists():
                    missing.append(f"{job}: {token}")
    assert not missing, f"steps reference files missing from the repository: {missing}"


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_actions_are_versioned(name: str) -> None:
    for _, step in _steps(_load(name)):
        if "uses" in step:
            ref = step["uses"].partition("@")[2]
            assert ref and ref not in ("main", "master", "latest"), step["uses"]


def test_no_secret_in_the_workflows() -> None:
    for path in [*WORKFLOWS.glob("*.yml"), *PIPELINE.glob("*.sh")]:
        text = path.read_text()
        found = [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
        assert not found, f"secret-looking values in {path.name}: {found}"


def test_docs_walk_from_an_empty_account_to_a_running_environment() -> None:
    text = DOCS.read_text()
    for must in (
        "bootstrap",
        "backend.hcl",
        "terraform apply",
        "AWS_DEPLOY_ROLE_ARN",
        "keys rotate",
        "db upgrade",
        "openai-api-key",
        "Session Manager",
    ):
        assert must in text, must
    missing = [
        token
        for token in PATH_TOKEN.findall(text)
        if token not in GENERATED
        and not (REPO_ROOT / token).exists()
        and not token.startswith(("deploy/lambda/build.py",))
    ]
    assert not missing, f"docs/deploy.md names files that do not exist: {missing}"


def test_every_image_the_estate_runs_is_built_checked_and_registered() -> None:
    """One list of image targets: the bake file builds them, check-images.sh looks for each
    in ECR, register-revisions.sh (lib.sh target_of) points each task at its own, and the
    task definitions run nothing else."""
    from deploy_support import parse_hcl
    from workloads import estate

    bake = parse_hcl((REPO_ROOT / "deploy" / "docker" / "docker-bake.hcl").read_text())
    (default,) = [g["default"] for g in bake["group"] if "default" in g]
    assert set(default["targets"]) == TARGETS
    loop = re.search(r"for target in ([\w -]+); do", (PIPELINE / "check-images.sh").read_text())
    assert loop and set(loop.group(1).split()) == TARGETS
    tasks = estate("prod").module("compute").local("tasks")
    assert {t["target"] for t in tasks.values()} == TARGETS
    for task, spec in tasks.items():
        completed = subprocess.run(
            ["bash", "-c", f'source "{PIPELINE / "lib.sh"}"; target_of "$1"', "-", task],
            capture_output=True, text=True, check=True)
        assert completed.stdout.strip() == spec["target"], task
