"""IAM contract: every AWS call a workload makes in its real flows is granted by the policy
its role gets in the Terraform.

The estate's resources are made on moto under the Terraform's names (a fresh apply: the
signing key ring has no value yet). Each ECS service runs as `atelier` with its task's
environment and its task secrets, a recorder on its botocore sessions
(tests/deploy/aws_recorder), and is driven through its real flows: the mobile API starts
on the empty key ring, makes a guest, registers and confirms a member through Cognito, asks
for an image (relayed to SQS) and reads it; the worker receives, generates (a fake OpenAI),
uploads, mails and deletes, and parks a dead letter; the admin API signs an admin in with
a pool token and lists, disables, enables, rotates keys and deletes an image; the gateway
serves and watches its own target in the target group; the scheduled key rotation runs,
and the guest purge removes an idle guest and its
picture; the web console signs a local admin in (the pool's hosted UI is what only AWS
serves; the console's AWS calls are the same either way) and shows the overview (queue
depths), the image grid (presigned thumbnails), disables and enables the member, rotates
the keys and deletes a picture; the Lambda triggers run in-process. Each recorded call
becomes IAM authorizations (tests/deploy/iam.py: the action, the resource ARN, the
condition keys, the KMS use the service makes for it) judged against that role's policy
statements, rendered from the Terraform with the moto ARNs. A call nothing grants fails
the test with the role and the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from entrypoints_support import container_command, free_port, wait_listening
from iam import (
    Call,
    Estate,
    Policy,
    Request,
    read_calls,
    recording_aws_calls,
    recording_environment,
)
from moto_estate import provision
from sqlalchemy import insert, update
from terraform_eval import Module, attributes, blocks
from workloads import ACCOUNT, containers, estate, lambda_environments, role_policies

from adapters.sql.tables import images, users
from application.images.fail_dead_job import GAVE_UP
from domain.shared.clock import utcnow
from domain.shared.ids import new_id
from entrypoints.lambdas import bootstrap
from entrypoints.lambdas.cognito_triggers import post_confirmation, pre_sign_up
from tests.fixtures.aws import DUMMY_KEY, Aws
from tests.support.ecs_metadata import TaskMetadata
from tests.support.fake_openai import FakeImagesApi
from tests.support.lambda_events import event
from tests.support.phone import API, bearer, device_id
from tests.support.processes import AtelierProcess, atelier
from tests.support.server import serving

pytestmark = [pytest.mark.postgres, pytest.mark.moto, pytest.mark.redis,
              pytest.mark.timeout(900)]  # eight processes start; minutes on a loaded host

ENV = "prod"
ADMIN = "/v1/api/admin"
ATELIER_COMMAND = [str(Path(sys.executable).parent / "atelier")]
ALLOWED_CLIENT = "203.0.113.7"  # in prod's admin allow-list, as CloudFront -> ALB forward it
GATEWAY_IP = "10.0.2.17"  # the gateway task's private IP (its target in the target group)
PASSWORD = "Correct horse battery 42"  # the pool's policy: 12+, upper, lower, digit


@dataclass
class Deployment:
    aws: Aws
    root: Module
    known: dict[str, Any]
    tmp: Path
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, AtelierProcess] = field(default_factory=dict)

    def calls_file(self, workload: str) -> Path:
        return self.tmp / f"{workload}.calls.jsonl"

    def calls(self, workload: str) -> list[Call]:
        return read_calls(self.calls_file(workload))

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    async def environment(self, family: str, as_workload: str | None = None,
                          **overrides: str) -> dict[str, str]:
        workload = as_workload or family
        container = containers(self.root)[family]
        environment = {k: str(v) for k, v in container.environment.items()}
        async with self.aws.client("secretsmanager") as secrets:
            for name, arn in container.secrets.items():  # as ECS injects them
                environment[name] = (await secrets.get_secret_value(SecretId=arn))[
                    "SecretString"]
        return {**environment, "AWS_ENDPOINT_URL": self.aws.endpoint_url,
                "AWS_ACCESS_KEY_ID": DUMMY_KEY, "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
                "ATELIER_DATA_DIR": str(self.tmp / workload),
                **recording_environment(self.calls_file(workload)), **overrides}

    async def start(self, stack: contextlib.AsyncExitStack, family: str,
                    command_override: list[str] | None = None, as_workload: str | None = None,
                    **overrides: str) -> AtelierProcess:
        """Runs `family`'s container as its task definition states it; a one-off task
        (`aws ecs run-task --overrides`) gives its own command and is recorded apart."""
        command = command_override or container_command(self.root, family)
        if "--port" in command:
            self.ports[family] = free_port()
            command[command.index("--port") + 1] = str(self.ports[family])
            command[command.index("--host") + 1] = "127.0.0.1"
        workload = as_workload or family
        process = await stack.enter_async_context(atelier(
            *command, env=await self.environment(family, as_workload, **overrides),
            log=self.tmp / f"{workload}.log"))
        self.processes[workload] = process
        return process

    async def listening(self, family: str) -> None:
        await wait_listening(self.processes[family], self.ports[family], timeout=240)

    async def queue_counts(self, name: str) -> tuple[int, int]:
        async with self.aws.client("sqs") as sqs:
            found = await sqs.get_queue_attributes(
                QueueUrl=self.known[f"aws_sqs_queue.{name}.id"], AttributeNames=[
                    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        attributes = found["Attributes"]
        return (int(attributes["ApproximateNumberOfMessages"]),
                int(attributes["ApproximateNumberOfMessagesNotVisible"]))

    def iam_estate(self) -> Estate:
        """How calls name resources here, and the customer key behind each resource."""
        keys: dict[str, str] = {}
        queue, data = self.root.module("queue"), self.root.module("data")
        for name in ("jobs", "dlq"):
            (resource,) = queue.instances("resource", "aws_sqs_queue", name).values()
            keys[self.known[f"aws_sqs_queue.{name}.arn"]] = resource.argument("kms_master_key_id")
        for module, resource_name in ((self.root.module("security"), "app"), (data, "connection")):
            for secret in module.instances(
                    "resource", "aws_secretsmanager_secret", resource_name).values():
                keys[str(secret.attr("arn"))] = str(secret.argument("kms_key_id"))
        (encryption,) = data.instances(
            "resource", "aws_s3_bucket_server_side_encryption_configuration", "images").values()
        (rule,) = blocks(encryption.body, "rule")
        (default,) = blocks(rule.body, "apply_server_side_encryption_by_default")
        keys[self.known["aws_s3_bucket.images.arn"]] = str(data.eval(
            attributes(default.body)["kms_master_key_id"], encryption.env))
        domain = str(queue.var("ses_domain"))
        return Estate("us-east-1", kms_keys=keys, ses_identity=lambda address: domain)


async def wait_until(predicate: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def deployment(aws: Aws, postgres_url: str, redis_url: str, tmp_path: Path,
                     pg_engine: Any, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
    known = await provision(aws, estate(ENV), {
        "database-url": postgres_url, "redis-url": redis_url, "openai-api-key": "sk-test"})
    return Deployment(aws, estate(ENV, known), known, tmp_path)


async def mobile_flows(d: Deployment) -> dict[str, Any]:
    """Guest, Cognito member (register, confirm, log in), an image requested and read."""
    async with httpx.AsyncClient(base_url=d.url("mobile-api"), timeout=30) as phone:
        guest = await phone.post(f"{API}/guests", json={"device_id": device_id(),
                                                         "platform": "ios"})
        assert guest.status_code == 201, guest.text
        guest_id = guest.json()["user"]["id"]
        device, email = device_id(), "member@example.com"
        registered = await phone.post(f"{API}/accounts", json={
            "email": email, "password": PASSWORD, "device_id": device, "platform": "ios"})
        assert registered.status_code == 201, registered.text
        # moto's Cognito accepts any confirmation code (it sends none)
        confirmed = await phone.post(f"{API}/accounts/confirm",
                                     json={"email": email, "code": "123456"})
        assert confirmed.status_code == 200, confirmed.text
        session = await phone.post(f"{API}/sessions", json={
            "email": email, "password": PASSWORD, "device_id": device, "platform": "ios"})
        assert session.status_code == 200, session.text
        tokens = session.json()["tokens"]
        profile = await phone.patch(f"{API}/me", headers=bearer(tokens),
                                    json={"notify_by_email": True})
        assert profile.status_code == 200, profile.text
        requested = await phone.post(f"{API}/images", headers=bearer(tokens),
                                     json={"prompt": "a red fox"})
        assert requested.status_code == 202, requested.text
        image_id = requested.json()["id"]

        async def ready() -> bool:
            found = await phone.get(f"{API}/images/{image_id}", headers=bearer(tokens))
            return bool(found.json().get("status") == "ready")

        await wait_until(ready, "the image to be ready", timeout=120)
        shown = await phone.get(f"{API}/images/{image_id}", headers=bearer(tokens))
        assert shown.json().get("url"), shown.text
        return {"tokens": tokens, "image_id": image_id, "user_id": session.json()["user"]["id"],
                "guest_id": guest_id}


async def idle_guest_with_an_image(d: Deployment, engine: Any, guest_id: str) -> str:
    """The guest made above, idle past the purge cutoff, owning a stored picture."""
    key = f"images/{guest_id}/idle.png"
    async with d.aws.client("s3") as s3:
        await s3.put_object(Bucket=d.known["aws_s3_bucket.images.id"], Key=key, Body=b"png")
    long_ago = utcnow() - timedelta(days=400)
    async with engine.begin() as connection:
        await connection.execute(update(users).where(users.c.id == guest_id).values(
            last_seen_at=long_ago, created_at=long_ago))
        await connection.execute(insert(images).values(
            id=new_id(), user_id=guest_id, status="ready", prompt="a red fox", size="1024x1024",
            quality="low", object_key=key, created_at=long_ago, updated_at=long_ago))
    return key


async def admin_token(d: Deployment) -> str:
    pool = d.known["aws_cognito_user_pool.this.id"]
    client_id = d.known["aws_cognito_user_pool_client.admin.id"]
    async with d.aws.client("cognito-idp") as cognito:  # the operator's side, not recorded
        await cognito.admin_create_user(UserPoolId=pool, Username="ops@example.com",
                                        TemporaryPassword=PASSWORD, MessageAction="SUPPRESS")
        await cognito.admin_set_user_password(UserPoolId=pool, Username="ops@example.com",
                                              Password=PASSWORD, Permanent=True)
        await cognito.admin_add_user_to_group(UserPoolId=pool, Username="ops@example.com",
                                              GroupName="admins")
        signed_in = await cognito.admin_initiate_auth(
            UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "ops@example.com", "PASSWORD": PASSWORD})
    return str(signed_in["AuthenticationResult"]["AccessToken"])


async def admin_flows(d: Deployment, member: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {await admin_token(d)}",
               # the ALB appends CloudFront's address; two trusted hops leave the client's
               "X-Forwarded-For": f"{ALLOWED_CLIENT}, 130.176.0.1"}
    async with httpx.AsyncClient(base_url=d.url("admin-api"), timeout=30,
                                 headers=headers) as console:
        for method, path in (
            ("GET", "/users"), ("GET", f"/users/{member['user_id']}"),
            ("POST", f"/users/{member['user_id']}/disable"),
            ("POST", f"/users/{member['user_id']}/enable"),
            ("GET", "/keys"), ("POST", "/keys/rotate"), ("GET", "/images"),
            ("DELETE", f"/images/{member['image_id']}"),
        ):
            answer = await console.request(method, f"{ADMIN}{path}")
            assert answer.status_code == 200, f"{method} {path}: {answer.text}"


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleBrowser:
    """A browser on the console from an allowed address, through CloudFront and the ALB
    (two forwarded hops). Its cookies are Secure, so they are carried by hand over the
    test's plain HTTP."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client, self.cookies = client, {}

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items() if v),
                "X-Forwarded-For": f"{ALLOWED_CLIENT}, 130.176.0.1"}

    async def get(self, path: str) -> httpx.Response:
        answer = self._keep(await self.client.get(path, headers=self._headers()))
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text[:300]}"
        return answer

    async def submit(self, page: str, action: str, **fields: str) -> httpx.Response:
        """Posts the form of `page` (its CSRF token) to `action`, as a browser would."""
        token = CSRF.search((await self.get(page)).text)
        assert token, f"no form on {page}"
        answer = self._keep(await self.client.post(
            action, data={"csrf_token": token[1], **fields}, headers=self._headers()))
        assert answer.status_code in (200, 303), (
            f"POST {action}: {answer.status_code} {answer.text[:300]}")
        return answer


async def console_flows(d: Deployment, engine: Any, member: dict[str, Any]) -> None:
    email = "console-admin@example.com"
    environment = await d.environment("console", ATELIER_ADMIN_AUTH="local")
    created = await asyncio.to_thread(
        subprocess.run, [*ATELIER_COMMAND, "admin", "create", email, "--password-stdin"],
        input=PASSWORD, env=environment, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr
    key = f"images/{member['user_id']}/console.png"
    async with d.aws.client("s3") as s3:  # a picture for the console to show and delete
        await s3.put_object(Bucket=d.known["aws_s3_bucket.images.id"], Key=key, Body=b"png")
    image_id, now = new_id(), utcnow()
    async with engine.begin() as connection:
        await connection.execute(insert(images).values(
            id=image_id, user_id=member["user_id"], status="ready", prompt="a red fox",
            size="1024x1024", quality="low", object_key=key, created_at=now, updated_at=now))
    async with httpx.AsyncClient(base_url=d.url("console"), timeout=30) as client:
        browser = ConsoleBrowser(client)
        await browser.submit("/sign-in", "/sign-in", email=email, password=PASSWORD, next="/")
        await browser.get("/")  # the overview: queue depths
        grid = await browser.get("/images")
        assert image_id in grid.text, "the console's grid does not show the picture"
        user = f"/users/{member['user_id']}"
        await browser.submit(user, f"{user}/disable", reason="IAM contract")
        await browser.submit(user, f"{user}/enable", reason="IAM contract")
        await browser.submit("/keys", "/keys/rotate")
        await browser.submit(f"/images/{image_id}/delete", f"/images/{image_id}/delete",
                             reason="IAM contract")
    async with d.aws.client("s3") as s3:
        listed = await s3.list_objects_v2(Bucket=d.known["aws_s3_bucket.images.id"],
                                          Prefix=key)
    assert listed.get("KeyCount") == 0, "the console's delete left the picture"


async def dead_letter_flow(d: Deployment, image_id: str) -> None:
    """A job the queue dead-lettered (SQS's redrive, done here by hand): the worker
    records it and parks it."""
    async with d.aws.client("sqs") as sqs:
        await sqs.send_message(QueueUrl=d.known["aws_sqs_queue.dlq.id"],
                               MessageBody=json.dumps({"image_id": image_id}))

    async def parked() -> bool:
        return await d.queue_counts("dlq") == (0, 1)

    await wait_until(parked, "the worker to park the dead letter")


async def gave_up_job(engine: Any, user_id: str) -> str:
    """An image whose job failed after its retries: what `atelier jobs redrive` resends."""
    image_id, now = new_id(), utcnow()
    async with engine.begin() as connection:
        await connection.execute(insert(images).values(
            id=image_id, user_id=user_id, status="failed", prompt="a blue heron",
            size="1024x1024", quality="low", failure_reason=GAVE_UP, created_at=now,
            updated_at=now, completed_at=now))
    return image_id


def lambda_flows(d: Deployment, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Call]]:
    """Each trigger in-process with its function's environment (the runtime's boto3)."""
    recorded = {}
    for name, variables in lambda_environments(d.root).items():
        with monkeypatch.context() as scoped, recording_aws_calls() as calls:
            for variable, value in {**variables, "AWS_ENDPOINT_URL": d.aws.endpoint_url,
                                    "AWS_REGION": d.aws.region}.items():
                scoped.setenv(variable, str(value))
            bootstrap.reset()
            try:
                if name == "pre-sign-up":
                    pre_sign_up(event("pre_sign_up"), None)
                else:
                    post_confirmation(event("post_confirmation", sub="lambda-sub",
                                            email="lambda@example.com"), None)
            finally:
                bootstrap.reset()
        recorded[name] = list(calls)
    return recorded


@contextlib.asynccontextmanager
async def fake_openai() -> AsyncIterator[str]:
    async with serving(FakeImagesApi()) as url:
        yield url


ONE_OFF_TASKS = {"jobs-redrive": "worker"}
"""Runbook commands run as one-off tasks of a service's family, under that family's role."""


def refusals(d: Deployment, calls: dict[str, list[Call]]) -> list[str]:
    policies = {**role_policies(d.root.module("compute"), "task"),
                **role_policies(d.root.module("identity"), "trigger")}
    name = str(d.root.local("name"))
    iam = d.iam_estate()
    found = []
    for workload, made in calls.items():
        family = ONE_OFF_TASKS.get(workload, workload)
        role = f"{name}-{family}" + ("" if family in ("pre-sign-up", "post-confirmation")
                                     else "-task")
        found += Policy.from_documents(role, policies.get(role, [])).refused(iam, made)
    return found


async def test_every_aws_call_of_every_workload_is_granted_by_its_role(
    deployment: Deployment, pg_engine: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = pg_engine
    d = deployment
    pool = d.known["aws_cognito_user_pool.this.id"]
    moto_jwks = f"{d.aws.endpoint_url}/{pool}/.well-known/jwks.json"
    public_url = str(d.root.module("edge").output("public_url"))
    async with contextlib.AsyncExitStack() as stack:
        openai_url = await stack.enter_async_context(fake_openai())
        await d.start(stack, "mobile-api")
        await d.listening("mobile-api")
        # Test values for what only AWS serves: the pool's JWKS, the public URL, OpenAI.
        await d.start(stack, "admin-api", ATELIER_ADMIN_COGNITO_JWKS_URL=moto_jwks)
        # ECS's task metadata endpoint names the task's IP: the gateway watches its target.
        metadata_url = await stack.enter_async_context(serving(TaskMetadata(GATEWAY_IP)))
        async with d.aws.client("elbv2") as elbv2:
            await elbv2.register_targets(
                TargetGroupArn=d.known['aws_lb_target_group.this["gateway"].arn'],
                Targets=[{"Id": GATEWAY_IP, "Port": 8000}])
        await d.start(stack, "gateway", ATELIER_JWKS_URL=str(
            containers(d.root)["gateway"].environment["ATELIER_JWKS_URL"]).replace(
            public_url, d.url("mobile-api")),
            ECS_CONTAINER_METADATA_URI_V4=f"{metadata_url}/v4/gateway")
        await d.start(stack, "worker", ATELIER_OPENAI_BASE_URL=openai_url,
                      ATELIER_WORKER_WAIT_SECONDS="1")
        rotation = await d.start(stack, "keys-rotate")  # the scheduled task, run once
        member = await mobile_flows(d)
        await dead_letter_flow(d, member["image_id"])
        # The runbook's DLQ redrive: a one-off task of the worker's family (its role),
        # sending a job that gave up back to the work queue.
        await gave_up_job(engine, member["user_id"])
        redrive = await d.start(stack, "worker", ["jobs", "redrive", "--limit", "10"],
                                as_workload="jobs-redrive")
        assert await asyncio.wait_for(redrive.process.wait(), 120) == 0, redrive.output()
        # The hosted UI is what only AWS serves: a local admin signs in instead.
        await d.start(stack, "console", ATELIER_ADMIN_AUTH="local")
        await d.listening("console")
        await console_flows(d, engine, member)
        await d.listening("admin-api")
        await admin_flows(d, member)
        await d.listening("gateway")
        async with httpx.AsyncClient(base_url=d.url("gateway")) as probe:
            assert (await probe.get("/readyz")).status_code == 200
        assert await asyncio.wait_for(rotation.process.wait(), 90) == 0, rotation.output()
        stored = await idle_guest_with_an_image(d, engine, member["guest_id"])
        purge = await d.start(stack, "guests-purge")
        assert await asyncio.wait_for(purge.process.wait(), 90) == 0, purge.output()
        async with d.aws.client("s3") as s3:
            listed = await s3.list_objects_v2(Bucket=d.known["aws_s3_bucket.images.id"],
                                              Prefix=stored)
        assert listed.get("KeyCount") == 0, "the purge left the idle guest's picture"
        await asyncio.gather(*(p.terminate() for p in d.processes.values()))

    calls = {w: d.calls(w) for w in ("mobile-api", "worker", "admin-api", "console", "gateway",
                                     "keys-rotate", "guests-purge", "jobs-redrive")}
    calls.update(await asyncio.to_thread(lambda_flows, d, monkeypatch))  # a Lambda has no loop
    made = {w: {f"{c.service}:{c.operation}" for c in cs} for w, cs in calls.items()}
    # The flows did reach AWS (a recorder that saw nothing would pass anything).
    assert {"secretsmanager:PutSecretValue", "sqs:GetQueueUrl", "sqs:SendMessage",
            "s3:GetObject"} <= made["mobile-api"], made["mobile-api"]
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
            "s3:PutObject", "ses:SendEmail"} <= made["worker"], made["worker"]
    assert {"cognito-idp:AdminDisableUser", "s3:DeleteObject"} <= made["admin-api"], made[
        "admin-api"]
    assert {"cognito-idp:AdminDisableUser", "cognito-idp:AdminEnableUser", "s3:GetObject",
            "s3:DeleteObject", "sqs:GetQueueAttributes"} <= made["console"], made["console"]
    assert {"secretsmanager:GetSecretValue"} <= made["post-confirmation"]
    assert {"s3:DeleteObject"} <= made["guests-purge"]
    assert {"elasticloadbalancing:DescribeTargetHealth"} <= made["gateway"], made["gateway"]
    assert {"sqs:ReceiveMessage", "sqs:SendMessage"} <= made["jobs-redrive"], made[
        "jobs-redrive"]
    refused = refusals(d, calls)
    assert not refused, "calls the Terraform's roles do not grant:\n" + "\n".join(refused)
    assert ACCOUNT in d.known["aws_sqs_queue.dlq.arn"]


def test_the_judge_refuses_what_the_statements_do_not_grant() -> None:
    """The evaluator itself: a contract that allowed everything would pass anything."""
    queue = "arn:aws:sqs:us-east-1:123456789012:jobs"
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    policy = Policy("role", [
        {"Effect": "Allow", "Action": ["sqs:Send*"], "Resource": [queue]},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/images/*"},
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key,
         "Condition": {
            "StringEquals": {"kms:ViaService": ["sqs.us-east-1.amazonaws.com"]}}},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:sns:*"},
        {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": queue + "-dlq"},
        {"Effect": "Allow", "Action": "sqs:*", "Resource": queue + "-dlq"},
    ])
    estate_ = Estate("us-east-1", kms_keys={queue: key})
    granted = [Call("sqs", "SendMessage", {"QueueUrl": "http://x/123456789012/jobs"}),
               Call("s3", "GetObject", {"Bucket": "b", "Key": "images/u/1.png"})]
    assert policy.refused(estate_, granted) == []
    refused = [
        Call("sqs", "SendMessage", {"QueueUrl": "http://x/123456789012/jobs2"}),
        Call("sqs", "ReceiveMessage", {"QueueUrl": "http://x/123456789012/jobs"}),
        Call("s3", "GetObject", {"Bucket": "b", "Key": "private/1.png"}),
        Call("s3", "GetObject", {"Bucket": "b2", "Key": "images/1.png"}),
        Call("sqs", "SendMessage", {"QueueUrl": "http://x/123456789012/jobs-dlq"}),
        Call("secretsmanager", "GetSecretValue", {"SecretId": "arn:aws:secretsmanager:x"}),
    ]
    for call in refused:
        assert policy.refused(estate_, [call]), f"{call} should be refused"
    # A send to a queue under a customer key needs kms:GenerateDataKey via SQS; the
    # condition grants that, and only that: the same action called directly is refused.
    via_sqs = (("kms:ViaService", "sqs.us-east-1.amazonaws.com"),)
    assert Request("kms:GenerateDataKey", key, via_sqs) in estate_.requests(granted[0])
    assert not policy.allows(Request("kms:Decrypt", key))
    assert policy.allows(Request("kms:Decrypt", key, (
        ("kms:ViaService", "sqs.us-east-1.amazonaws.com"),)))
    assert not policy.allows(Request("iam:PassRole", "arn:aws:sns:us-east-1:1:t"))
    assert policy.allows(Request("sns:Publish", "arn:aws:sns:us-east-1:1:t"))


def test_the_rendered_roles_scope_the_images_bucket_to_its_prefix() -> None:
    """Read from the Terraform: what the contract judges is the policy an apply attaches."""
    root = estate(ENV, {"aws_s3_bucket.images.arn": "arn:aws:s3:::images-bucket"})
    documents = role_policies(root.module("compute"), "task")
    mobile = Policy.from_documents("mobile", documents[f"{root.local('name')}-mobile-api-task"])
    assert mobile.allows(Request("s3:PutObject", "arn:aws:s3:::images-bucket/images/u/1.png"))
    assert not mobile.allows(Request("s3:PutObject", "arn:aws:s3:::images-bucket/other/1"))
    assert not mobile.allows(Request("s3:ListBucket", "arn:aws:s3:::images-bucket"))
