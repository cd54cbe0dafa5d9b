"""What the Terraform hands each workload, read through terraform_eval: the ECS container
definitions (environment, secrets, health check), the Lambda environments, the target
groups' health checks and the roles' policy documents; and the compose services."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml
from deploy_support import ENVIRONMENTS_DIR, REPO_ROOT
from terraform_eval import Module, Unknown, World, environment

ENVIRONMENTS = ("dev", "prod")
REGION = "us-east-1"
ACCOUNT = "123456789012"
DATA_SOURCES = {
    "data.aws_region.current.name": REGION,
    "data.aws_caller_identity.current.account_id": ACCOUNT,
    "data.aws_partition.current.partition": "aws",
}


def estate(env: str, known: dict[str, Any] | None = None) -> Module:
    return environment(ENVIRONMENTS_DIR / env, World({**DATA_SOURCES, **(known or {})}))


@dataclass(frozen=True)
class Container:
    """One ECS task family's container as its task definition states it."""

    family: str
    environment: dict[str, Any]
    secrets: dict[str, Any]  # name -> valueFrom (a secret ARN): ECS injects the value
    health_command: list[str] | None
    port: int | None


COLLECTOR = "aws-otel-collector"


def container_definitions(root: Module) -> dict[str, list[dict[str, Any]]]:
    """Task family -> its container definitions, as ECS receives them."""
    definitions = root.module("compute").local("container_definitions")
    return {family: json.loads(text) for family, text in definitions.items()}


def containers(root: Module) -> dict[str, Container]:
    """The application container of every task family (named after the family)."""
    found = {}
    for family, definitions in container_definitions(root).items():
        (container,) = [c for c in definitions if c["name"] == family]
        ports = container.get("portMappings") or [{}]
        found[family] = Container(
            family,
            {e["name"]: e["value"] for e in container.get("environment", [])},
            {s["name"]: s["valueFrom"] for s in container.get("secrets", [])},
            (container.get("healthCheck") or {}).get("command"),
            ports[0].get("containerPort"),
        )
    return found


def lambda_environments(root: Module) -> dict[str, dict[str, Any]]:
    identity = root.module("identity")
    found = {}
    for key, function in identity.instances("resource", "aws_lambda_function", "trigger").items():
        (block,) = function.nested("environment")
        found[str(key)] = dict(block["variables"])
    return found


def target_group_health(root: Module) -> dict[str, dict[str, Any]]:
    """Service -> the target group's health_check block."""
    edge = root.module("edge")
    found = {}
    for key, group in edge.instances("resource", "aws_lb_target_group", "this").items():
        (check,) = group.nested("health_check")
        found[str(key)] = check
    return found


def role_policies(module: Module, policy_resource: str) -> dict[str, list[str]]:
    """Role name -> the policy documents (JSON) `aws_iam_role_policy.<name>` attaches."""
    found: dict[str, list[str]] = {}
    for policy in module.instances("resource", "aws_iam_role_policy", policy_resource).values():
        found.setdefault(str(policy.argument("role")), []).append(str(policy.argument("policy")))
    return found


def compose_services() -> dict[str, dict[str, Any]]:
    """Compose services built from the project's Dockerfile: name -> environment."""
    compose = yaml.safe_load((REPO_ROOT / "deploy" / "compose.yaml").read_text())
    return {name: dict(service.get("environment") or {})
            for name, service in compose["services"].items() if "build" in service}


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and "<" in value)
