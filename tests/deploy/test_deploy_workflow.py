"""The deploy pipeline (.github/workflows/deploy.yml) and its runbook (docs/deploy.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from deploy_support import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "deploy.yml"
DOCS = REPO_ROOT / "docs" / "deploy.md"
TARGETS = {"mobile-api", "admin-api", "gateway", "worker", "migrate"}

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


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps(workflow: dict[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, body in workflow["jobs"].items() for step in body["steps"]]


def test_workflow_is_dispatched_with_an_environment(workflow: dict[Any, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as True
    assert set(triggers) == {"workflow_dispatch"}
    environment = triggers["workflow_dispatch"]["inputs"]["environment"]
    assert environment["type"] == "choice"
    assert set(environment["options"]) == {"dev", "prod"}
    assert workflow["permissions"] == {"contents": "read"}


def test_jobs_cover_test_build_migrate_deploy_and_lambda(workflow: dict[Any, Any]) -> None:
    jobs = workflow["jobs"]
    assert {"test", "build", "deploy", "lambda"} <= set(jobs)
    assert set(jobs["build"]["strategy"]["matrix"]["target"]) == TARGETS
    assert "test" in jobs["build"]["needs"]
    assert set(jobs["deploy"]["needs"]) == {"build", "lambda"}
    runs = "\n".join(step.get("run", "") for _, step in _steps(workflow))
    assert "scripts/test" in runs
    assert "deploy/lambda/build.py" in runs
    assert "aws ecs run-task" in runs and "aws ecs wait tasks-stopped" in runs
    assert "aws ecs update-service" in runs
    assert "aws lambda update-function-code" in runs
    assert "aws ssm get-parameter" in runs and "secretsmanager describe-secret" in runs
    # Migrations run before the services roll.
    names = [step.get("name", "") for step in jobs["deploy"]["steps"]]
    migrate = next(i for i, n in enumerate(names) if "migration" in n.lower())
    roll = next(i for i, n in enumerate(names) if "roll" in n.lower())
    assert migrate < roll


def test_aws_access_is_oidc_per_environment(workflow: dict[Any, Any]) -> None:
    for job in ("build", "deploy"):
        body = workflow["jobs"][job]
        assert body["permissions"]["id-token"] == "write"
        assert body["environment"] == "${{ inputs.environment }}"
        (credentials,) = [
            s
            for s in body["steps"]
            if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        ]
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "id-token" not in workflow["jobs"]["test"].get("permissions", {})


def test_every_step_references_files_that_exist(workflow: dict[Any, Any]) -> None:
    missing = []
    for job, step in _steps(workflow):
        texts = [step.get("run", "")]
        texts += [str(v) for v in (step.get("with") or {}).values()]
        for text in texts:
            for token in PATH_TOKEN.findall(text):
                if token in GENERATED:
                    continue
                if not (REPO_ROOT / token).exists():
                    missing.append(f"{job}: {token}")
    assert not missing, f"steps reference files missing from the repository: {missing}"


def test_actions_are_versioned(workflow: dict[Any, Any]) -> None:
    for _, step in _steps(workflow):
        if "uses" in step:
            ref = step["uses"].partition("@")[2]
            assert ref and ref not in ("main", "master", "latest"), step["uses"]


def test_no_secret_in_the_workflow() -> None:
    text = WORKFLOW.read_text()
    found = [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    assert not found, f"secret-looking values in the workflow: {found}"


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
