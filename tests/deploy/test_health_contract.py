"""Health-check contract: every health check the estate defines passes against the real
entrypoint, started as `atelier` with the environment the Terraform gives its task.

For each HTTP service (the web console included): the target group's health check path is
requested from an address outside the admin allow-list (the load balancer's own address is
never in it), and the container health check commands, the task definition's and the
Dockerfile's, are run as they are (only the port moved). Each must succeed; the rest of
the admin API and the console's pages must still refuse that address. The metrics the
collector beside the task scrapes answer on ATELIER_METRICS_PORT (moved too: here the
services share one host, in ECS each task has its own localhost) and never on the public
port the load balancer forwards to. The AWS resources are made on moto under the
Terraform's names; the task's secrets are read back from moto the way ECS injects them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from entrypoints_support import container_command, free_port, wait_listening
from moto_estate import provision
from workloads import Container, containers, estate, is_unknown, target_group_health

from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.support.processes import ROOT, AtelierProcess, atelier

pytestmark = [pytest.mark.postgres, pytest.mark.moto, pytest.mark.redis,
              pytest.mark.timeout(600)]  # four processes start; minutes on a loaded host

ENV = "prod"
OUTSIDE = "127.0.0.23"  # not in the Terraform's admin allow-list (203.0.113.0/24 in prod)
ADMIN_PATH = "/v1/api/admin/users"
REFUSED_OUTSIDE = {"admin-api": ADMIN_PATH, "console": "/"}  # behind the admin allow-list


def dockerfile_health_commands() -> dict[str, list[str]]:
    """Dockerfile target -> its HEALTHCHECK command (inherited from the stage it builds on)."""
    text = (ROOT / "deploy" / "docker" / "Dockerfile").read_text().replace("\\\n", " ")
    parents: dict[str, str] = {}
    checks: dict[str, list[str] | None] = {}
    stage = ""
    for line in text.splitlines():
        found = re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", line.strip(), re.IGNORECASE)
        if found:
            stage = found[2]
            parents[stage] = found[1]
        elif line.strip().startswith("HEALTHCHECK"):
            command = re.search(r"\bCMD\s+(\[.*\])", line)
            checks[stage] = ["CMD", *json.loads(command[1])] if command else None
    resolved = {}
    for target in parents:
        at: str | None = target
        while at is not None and at not in checks:
            at = parents.get(at)
        if at is not None and checks[at] is not None:
            resolved[target] = checks[at]
    return resolved  # type: ignore[return-value]


async def task_environment(aws: Aws, container: Container, port_env: dict[str, str],
                           data_dir: Path) -> dict[str, str]:
    """The container's environment, its secrets injected from Secrets Manager (moto)."""
    unknown = {k: v for k, v in container.environment.items() if is_unknown(v)}
    assert not unknown, f"{container.family}: values only an apply knows: {unknown}"
    environment = {k: str(v) for k, v in container.environment.items()}
    async with aws.client("secretsmanager") as secrets:
        for name, arn in container.secrets.items():
            environment[name] = (await secrets.get_secret_value(SecretId=arn))["SecretString"]
    return {**environment, **port_env, "ATELIER_DATA_DIR": str(data_dir)}


async def run_check(command: list[str], port: int) -> tuple[int, str]:
    """A container health check command, as Docker and ECS run it (CMD form)."""
    assert command[0] == "CMD", command
    argv = [sys.executable if a == "python" else a.replace(":8000", f":{port}")
            for a in command[1:]]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 10)
    return int(process.returncode or 0), output.decode(errors="replace")[-600:]


@pytest.fixture
async def estate_on_moto(aws: Aws, postgres_url: str, redis_url: str,
                         monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
    return await provision(aws, estate(ENV), {
        "database-url": postgres_url, "redis-url": redis_url, "openai-api-key": "sk-test"})


async def check_service(service: str, port: int, metrics_port: int, root: Any,
                        process: AtelierProcess, failures: list[str]) -> None:
    container = containers(root)[service]
    target_group = target_group_health(root)[service]
    async with httpx.AsyncClient(timeout=10) as collector:
        scraped = await collector.get(f"http://127.0.0.1:{metrics_port}/metrics")
        if scraped.status_code != 200 or "atelier_" not in scraped.text:
            failures.append(f"{service}: no metrics on ATELIER_METRICS_PORT: "
                            f"{scraped.status_code} {scraped.text[:200]}")
    transport = httpx.AsyncHTTPTransport(local_address=OUTSIDE)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{port}",
                                 timeout=10) as load_balancer:
        if (await load_balancer.get("/metrics")).status_code == 200:
            failures.append(f"{service}: /metrics answers on the public port")
        probe = await load_balancer.get(str(target_group["path"]))
        if str(probe.status_code) != str(target_group["matcher"]):
            failures.append(f"{service}: the target group's {target_group['path']} answered "
                            f"{probe.status_code} {probe.text[:300]}")
        refused = REFUSED_OUTSIDE.get(service)
        if refused and (await load_balancer.get(refused)).status_code != 403:
            failures.append(f"{service}: {refused} must stay refused to {OUTSIDE}")
    checks = [("task definition", container.health_command),
              ("Dockerfile", dockerfile_health_commands().get(service))]
    for origin, check in checks:
        if check is None:
            failures.append(f"{service}: no {origin} health check")
            continue
        status, output = await run_check(check, port)
        if status != 0:
            failures.append(f"{service}: the {origin} health check failed: {output}")


async def test_every_health_check_passes_from_outside_the_allow_list(
    aws: Aws, estate_on_moto: dict[str, Any], tmp_path: Path, pg_engine: Any,
) -> None:
    root = estate(ENV, estate_on_moto)
    tasks = containers(root)
    # The mobile API first: the gateway's readiness needs its JWKS, as in ECS.
    services = sorted(target_group_health(root), key=lambda s: (s != "mobile-api", s))
    assert services[0] == "mobile-api"
    ports = {service: free_port() for service in services}
    metrics_ports = {service: free_port() for service in services}
    # The gateway fetches the JWKS through CloudFront; here it reaches the mobile API.
    public_url = str(root.module("edge").output("public_url"))
    async with contextlib.AsyncExitStack() as stack:
        processes = {}
        for service in services:
            if service == "gateway":
                await wait_listening(processes["mobile-api"], ports["mobile-api"], timeout=240)
            command = container_command(root, service)
            command[command.index("--port") + 1] = str(ports[service])
            command[command.index("--host") + 1] = "127.0.0.1"
            environment = await task_environment(aws, tasks[service], {
                "AWS_ENDPOINT_URL": aws.endpoint_url, "AWS_ACCESS_KEY_ID": DUMMY_KEY,
                "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
                "ATELIER_METRICS_PORT": str(metrics_ports[service])}, tmp_path / service)
            if service == "gateway":
                mobile = f"http://127.0.0.1:{ports['mobile-api']}"
                environment = {k: v.replace(public_url, mobile) for k, v in environment.items()}
            processes[service] = await stack.enter_async_context(atelier(
                *command, env=environment, log=tmp_path / f"{service}.log"))
        await asyncio.gather(*(wait_listening(processes[s], ports[s], timeout=240)
                               for s in services))
        failures: list[str] = []
        for service in services:
            await check_service(service, ports[service], metrics_ports[service], root,
                                processes[service], failures)
        logs = "\n".join(f"--- {s}\n{processes[s].output()[-1500:]}" for s in services)
        assert not failures, "\n".join(failures) + "\n" + logs
