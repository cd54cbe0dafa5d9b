"""deploy/pipeline/*.sh run against a stand-in `aws` (fake_aws.py): what the deploy and
rollback do when a deployment completes, is rolled back by the circuit breaker, never
settles, or when a one-off task fails."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_support import REPO_ROOT

PIPELINE = REPO_ROOT / "deploy" / "pipeline"
FAKE_AWS = Path(__file__).with_name("fake_aws.py")
SERVICES = {"mobile-api": "mobile-api", "worker": "worker"}
COLLECTOR = "aws-otel-collector"
COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.45.0"

pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="the scripts need jq")


def _world(**changes: Any) -> dict[str, Any]:
    world: dict[str, Any] = {
        "config": {
            "cluster": "atelier-dev",
            "ecr_repository": "111111111111.dkr.ecr.ap-northeast-1.amazonaws.com/atelier-dev",
            "services": SERVICES,
            "task_families": {
                "mobile-api": "atelier-dev-mobile-api",
                "worker": "atelier-dev-worker",
                "migrate": "atelier-dev-migrate",
                "keys-rotate": "atelier-dev-keys-rotate",
            },
            "subnets": ["subnet-1", "subnet-2"],
            "jobs_security_group": "sg-1",
            "secret_arn_parameters": {
                "database-url": "/atelier/dev/secrets/database-url",
                "signing-keys": "/atelier/dev/secrets/signing-keys",
            },
            "image_tag_parameter": "/atelier/dev/deploy/image-tag",
            "migrate_log_group": "/ecs/atelier-dev/migrate",
        },
        "parameters": {
            "/atelier/dev/secrets/database-url": "arn:secret:database-url",
            "/atelier/dev/secrets/signing-keys": "arn:secret:signing-keys",
            "/atelier/dev/deploy/image-tag": "old",
        },
        "secrets": {"arn:secret:database-url": True, "arn:secret:signing-keys": True},
        "images": [],
        "task_definitions": {
            f"atelier-dev-{task}": {
                "family": f"atelier-dev-{task}",
                "taskDefinitionArn": f"arn:aws:ecs:task-definition/atelier-dev-{task}:1",
                "revision": 1,
                # As the Terraform writes them: the application (named after the task),
                # then the telemetry collector.
                "containerDefinitions": [
                    {"name": task, "image": "repo:x-old"},
                    {"name": COLLECTOR, "image": COLLECTOR_IMAGE},
                ],
            }
            for task in ("mobile-api", "worker", "migrate", "keys-rotate")
        },
        "rollouts": {s: [["NEW", "IN_PROGRESS"], ["NEW", "COMPLETED"]] for s in SERVICES},
        "tasks": [["RUNNING", None], ["STOPPED", 0]],
    }
    world.update(changes)
    return world


class Pipeline:
    def __init__(self, root: Path, world: dict[str, Any]) -> None:
        self.runner_temp = root / "runner"
        self.runner_temp.mkdir()
        self.world_file = root / "world.json"
        self.world_file.write_text(json.dumps(world))
        bin_dir = root / "bin"
        bin_dir.mkdir()
        aws = bin_dir / "aws"
        aws.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE_AWS} "$@"\n')
        aws.chmod(aws.stat().st_mode | stat.S_IEXEC)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_AWS_WORLD": str(self.world_file),
            "RUNNER_TEMP": str(self.runner_temp),
            "ENVIRONMENT": "dev",
            "POLL_SECONDS": "0",
        }

    def run(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(PIPELINE / script), *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    @property
    def world(self) -> dict[str, Any]:
        return json.loads(self.world_file.read_text())

    def prepare(self, tag: str = "abc") -> None:
        for script, *args in (("read-config.sh",), ("register-revisions.sh", tag)):
            completed = self.run(script, *args)
            assert completed.returncode == 0, completed.stderr


def test_register_revisions_points_every_family_at_the_tag(tmp_path: Path) -> None:
    pipeline = Pipeline(tmp_path, _world())
    pipeline.prepare("abc")
    images = {
        d["family"]: d["containerDefinitions"][0]["image"] for d in pipeline.world["registered"]
    }
    collectors = {d["containerDefinitions"][1]["image"] for d in pipeline.world["registered"]}
    assert collectors == {COLLECTOR_IMAGE}, "the collector keeps the version Terraform pinned"
    repository = pipeline.world["config"]["ecr_repository"]
    assert images == {
        "atelier-dev-mobile-api": f"{repository}:mobile-api-abc",
        "atelier-dev-worker": f"{repository}:worker-abc",
        "atelier-dev-migrate": f"{repository}:migrate-abc",
        "atelier-dev-keys-rotate": f"{repository}:migrate-abc",
    }
    assert all("revision" not in d for d in pipeline.world["registered"])


def test_roll_waits_until_every_deployment_completes(tmp_path: Path) -> None:
    pipeline = Pipeline(tmp_path, _world())
    pipeline.prepare()
    completed = pipeline.run("roll-services.sh")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert pipeline.world["rolled"] == {
        "mobile-api": "arn:aws:ecs:task-definition/atelier-dev-mobile-api:2",
        "worker": "arn:aws:ecs:task-definition/atelier-dev-worker:2",
    }
    assert "IN_PROGRESS" in completed.stdout


def test_roll_fails_when_the_circuit_breaker_rolled_a_service_back(tmp_path: Path) -> None:
    """`aws ecs wait services-stable` calls the rolled-back service stable."""
    old = "arn:aws:ecs:task-definition/atelier-dev-worker:1"
    rollouts = {
        "mobile-api": [["NEW", "COMPLETED"]],
        "worker": [["NEW", "IN_PROGRESS"], [old, "IN_PROGRESS"], [old, "COMPLETED"]],
    }
    pipeline = Pipeline(tmp_path, _world(rollouts=rollouts))
    pipeline.prepare()
    completed = pipeline.run("roll-services.sh")
    assert completed.returncode != 0
    assert "worker: deployment" in completed.stdout and "rolled back" in completed.stdout


def test_roll_gives_up_at_its_deadline(tmp_path: Path) -> None:
    rollouts = {s: [["NEW", "IN_PROGRESS"]] for s in SERVICES}
    pipeline = Pipeline(tmp_path, _world(rollouts=rollouts))
    pipeline.prepare()
    completed = pipeline.run("roll-services.sh", ROLL_TIMEOUT_SECONDS="1", POLL_SECONDS="0.2")
    assert completed.returncode != 0
    assert "gave up after 1s" in completed.stdout


def test_a_failed_migration_stops_the_deploy(tmp_path: Path) -> None:
    pipeline = Pipeline(tmp_path, _world(tasks=[["STOPPED", 3]]))
    pipeline.prepare()
    completed = pipeline.run("run-task.sh", "migrate")
    assert completed.returncode != 0
    assert "migrate failed (exit code 3)" in completed.stdout
    (run,) = [c for c in pipeline.world["calls"] if c[:2] == ["ecs", "run-task"]]
    assert "arn:aws:ecs:task-definition/atelier-dev-migrate:2" in run


def test_a_stuck_task_is_stopped_at_its_deadline(tmp_path: Path) -> None:
    pipeline = Pipeline(tmp_path, _world(tasks=[["RUNNING", None]]))
    pipeline.prepare()
    completed = pipeline.run("run-task.sh", "migrate", TASK_TIMEOUT_SECONDS="1", POLL_SECONDS="0.2")
    assert completed.returncode != 0
    assert [c for c in pipeline.world["calls"] if c[:2] == ["ecs", "stop-task"]]


def test_a_successful_task_passes(tmp_path: Path) -> None:
    pipeline = Pipeline(tmp_path, _world())
    pipeline.prepare()
    completed = pipeline.run("run-task.sh", "keys-rotate")
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_rollback_requires_every_image_of_the_tag(tmp_path: Path) -> None:
    present = [f"{t}-abc" for t in ("mobile-api", "admin-api", "gateway", "console", "worker")]
    pipeline = Pipeline(tmp_path, _world(images=present))
    assert pipeline.run("read-config.sh").returncode == 0
    completed = pipeline.run("check-images.sh", "abc", "--require")
    assert completed.returncode != 0 and "migrate" in completed.stdout
    assert pipeline.run("check-images.sh", "abc").stdout.split() == ["migrate"]


def test_an_empty_key_ring_asks_for_the_first_key_and_an_empty_secret_stops(
    tmp_path: Path,
) -> None:
    secrets = {"arn:secret:database-url": True, "arn:secret:signing-keys": False}
    pipeline = Pipeline(tmp_path, _world(secrets=secrets))
    assert pipeline.run("read-config.sh").returncode == 0
    assert pipeline.run("check-secrets.sh").returncode == 0
    assert (pipeline.runner_temp / "needs-first-key").exists()

    secrets = {"arn:secret:database-url": False, "arn:secret:signing-keys": True}
    empty = tmp_path / "empty"
    empty.mkdir()
    pipeline = Pipeline(empty, _world(secrets=secrets))
    assert pipeline.run("read-config.sh").returncode == 0
    completed = pipeline.run("check-secrets.sh")
    assert completed.returncode != 0 and "database-url" in completed.stdout


def test_publish_records_the_tag(tmp_path: Path) -> None:
    pipeline = Pipeline(tmp_path, _world())
    assert pipeline.run("read-config.sh").returncode == 0
    assert pipeline.run("publish-tag.sh", "abc").returncode == 0
    assert pipeline.world["parameters"]["/atelier/dev/deploy/image-tag"] == "abc"
