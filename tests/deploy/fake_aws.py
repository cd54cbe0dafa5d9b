"""A stand-in for the `aws` CLI, enough for deploy/pipeline/*.sh: it answers from a JSON
world file ($FAKE_AWS_WORLD), applies --query with JMESPath as the CLI does, prints
`--output text` the CLI's way, and appends every call to the world's "calls".

World keys: config (the deploy configuration), parameters {name: value}, secrets
{arn: has_current_value}, images [tags in ECR], task_definitions {family: definition},
rollouts {service: [[task definition or "NEW", rolloutState], ...] one per describe call,
the last repeating}, tasks [[lastStatus, exitCode], ...] one per describe call.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import jmespath

COLLECTOR = "aws-otel-collector"


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\t".join("None" if v is None else str(v) for v in value)
    return "None" if value is None else str(value)


def _next(queue: list[Any]) -> Any:
    return queue.pop(0) if len(queue) > 1 else queue[0]


def answer(world: dict[str, Any], service: str, operation: str, args: list[str]) -> Any:
    if (service, operation) == ("ssm", "get-parameter"):
        name = _option(args, "--name")
        if name and name.endswith("/deploy/config"):
            return {"Parameter": {"Value": json.dumps(world["config"])}}
        return {"Parameter": {"Value": world["parameters"][name]}}
    if (service, operation) == ("ssm", "put-parameter"):
        world["parameters"][_option(args, "--name")] = _option(args, "--value")
        return {"Version": 2}
    if (service, operation) == ("secretsmanager", "describe-secret"):
        has_value = world["secrets"][_option(args, "--secret-id")]
        return {"VersionIdsToStages": {"v1": ["AWSCURRENT"]} if has_value else {}}
    if (service, operation) == ("ecr", "describe-images"):
        tag = str(_option(args, "--image-ids")).removeprefix("imageTag=")
        if tag not in world["images"]:
            raise LookupError(f"ImageNotFoundException: {tag}")
        return {"imageDetails": [{"imageTags": [tag]}]}
    if (service, operation) == ("ecs", "describe-task-definition"):
        family = _option(args, "--task-definition")
        return {"taskDefinition": world["task_definitions"][family]}
    if (service, operation) == ("ecs", "register-task-definition"):
        path = str(_option(args, "--cli-input-json")).removeprefix("file://")
        definition = json.loads(Path(path).read_text())
        world.setdefault("registered", []).append(definition)
        arn = f"arn:aws:ecs:task-definition/{definition['family']}:2"
        return {"taskDefinition": {"taskDefinitionArn": arn}}
    if (service, operation) == ("ecs", "update-service"):
        world.setdefault("rolled", {})[_option(args, "--service")] = _option(
            args, "--task-definition"
        )
        return {"service": {"taskDefinition": _option(args, "--task-definition")}}
    if (service, operation) == ("ecs", "describe-services"):
        name = str(_option(args, "--services"))
        definition, state = _next(world["rollouts"][name])
        if definition == "NEW":
            definition = world["rolled"][name]
        deployment = {"status": "PRIMARY", "taskDefinition": definition, "rolloutState": state}
        return {"services": [{"deployments": [deployment]}]}
    if (service, operation) == ("ecs", "run-task"):
        world["running"] = _option(args, "--task-definition")
        return {"tasks": [{"taskArn": "arn:aws:ecs:task/cluster/abc123"}]}
    if (service, operation) == ("ecs", "describe-tasks"):
        # The collector beside the application is listed first and exited cleanly: only
        # the application container's exit code may decide.
        status, code = _next(world["tasks"])
        family = str(world.get("running", "")).rsplit("/", 1)[-1].rsplit(":", 1)[0]
        (definition,) = [d for d in world.get("registered", []) if d["family"] == family]
        names = [c["name"] for c in definition["containerDefinitions"]]
        containers = [{"name": n, "exitCode": 0 if n == COLLECTOR else code} for n in names]
        return {"tasks": [{"lastStatus": status, "containers": sorted(
            containers, key=lambda c: c["name"] != COLLECTOR)}]}
    if (service, operation) == ("ecs", "stop-task"):
        return {"task": {}}
    if (service, operation) == ("logs", "filter-log-events"):
        return {"events": []}
    raise LookupError(f"unexpected call: aws {service} {operation}")


def main() -> int:
    world_file = Path(os.environ["FAKE_AWS_WORLD"])
    world = json.loads(world_file.read_text())
    service, operation, *args = sys.argv[1:]
    world.setdefault("calls", []).append([service, operation, *args])
    try:
        response = answer(world, service, operation, args)
    except LookupError as error:
        print(error, file=sys.stderr)
        return 254
    finally:
        world_file.write_text(json.dumps(world))
    query = _option(args, "--query")
    result = jmespath.search(query, response) if query else response
    print(_text(result) if _option(args, "--output") == "text" else json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
