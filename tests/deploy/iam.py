"""Recording the AWS calls a workload makes, and judging them against its role's policy.

`recording_aws_calls()` hooks every botocore session created while it is active (aioboto3's
too: AioSession is a botocore Session) on `provide-client-params`, the event each API call
and each presigned URL or POST emits with the caller's own parameters. `requests()` turns a
recorded call into what IAM evaluates: the action(s), the resource ARN(s) and the condition
keys, including the KMS use a service makes on the caller's behalf (an SQS send to a queue
under a customer key needs kms:GenerateDataKey via sqs, a read kms:Decrypt...).
`Policy.allows()` evaluates identity-policy statements: Allow and Deny, Action/NotAction,
Resource/NotResource with `*`/`?` wildcards, and the condition operators the estate uses.
Calls the AWS API accepts without SigV4 (Cognito's public sign-up and sign-in) need no
permission and are left out.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session

ACCOUNT = "123456789012"  # moto's account


@dataclass(frozen=True)
class Call:
    service: str  # IAM prefix (the signing name): sqs, s3, secretsmanager, cognito-idp...
    operation: str
    params: dict[str, Any]

    def __str__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k in SHOWN_PARAMS}
        return f"{self.service}:{self.operation}({shown})"


SHOWN_PARAMS = {"QueueUrl", "QueueName", "Bucket", "Key", "Prefix", "SecretId", "Names",
                "Name", "UserPoolId", "Source", "FromEmailAddress", "KeyId",
                "ConfigurationSetName"}


@dataclass(frozen=True)
class Request:
    """One IAM authorization: an action on a resource, with its condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    call: Call | None = field(default=None, compare=False)

    def __str__(self) -> str:
        context = f" {dict(self.context)}" if self.context else ""
        return f"{self.action} on {self.resource}{context} (from {self.call})"


@contextlib.contextmanager
def recording_aws_calls() -> Iterator[list[Call]]:
    calls: list[Call] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        auth = getattr(model, "auth", None) or []
        if model.auth_type == "none" or "smithy.api#noAuth" in auth:
            return
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        calls.append(Call(service, model.name, dict(params)))

    original = botocore.session.Session.__init__

    def hooked(self: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.get_component("event_emitter").register("provide-client-params", record)

    botocore.session.Session.__init__ = hooked  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.session.Session.__init__ = original  # type: ignore[method-assign]


RECORDER = Path(__file__).resolve().parent / "aws_recorder"


def recording_environment(calls_file: Path) -> dict[str, str]:
    """Environment of a child process whose AWS calls go to `calls_file` (JSON lines)."""
    return {"PYTHONPATH": str(RECORDER), "ATELIER_TEST_AWS_CALLS": str(calls_file)}


def read_calls(calls_file: Path) -> list[Call]:
    if not calls_file.exists():
        return []
    return [Call(c["service"], c["operation"], c["params"]) for c in map(
        json.loads, calls_file.read_text().splitlines())]


@dataclass
class Estate:
    """How a call names its resources, and the customer keys behind them."""

    region: str
    secret_arns: dict[str, str] = field(default_factory=dict)  # name or ARN -> ARN
    kms_keys: dict[str, str] = field(default_factory=dict)  # resource ARN -> key ARN
    ses_identity: Callable[[str], str] = lambda address: address.split("@")[-1]

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT}:{resource}"

    def requests(self, call: Call) -> list[Request]:
        handler = getattr(self, "_" + call.service.replace("-", "_"), None)
        found = handler(call) if handler else [Request(
            f"{call.service}:{call.operation}", "*")]
        return [Request(r.action, r.resource, r.context, call) for r in found]

    def _via(self, service: str, resource: str, action: str) -> list[Request]:
        key = self.kms_keys.get(resource)
        if key is None:
            return []
        via = f"{service}.{self.region}.amazonaws.com"
        return [Request(action, key, (("kms:ViaService", via),))]

    def _sqs(self, call: Call) -> list[Request]:
        p = call.params
        name = p.get("QueueName") or str(p.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
        queue = self.arn("sqs", name)
        action = "sqs:" + re.sub(r"Batch$", "", call.operation)
        found = [Request(action, queue)]
        if action == "sqs:SendMessage":
            found += self._via("sqs", queue, "kms:GenerateDataKey")
        if action == "sqs:ReceiveMessage":
            found += self._via("sqs", queue, "kms:Decrypt")
        return found

    def _s3(self, call: Call) -> list[Request]:
        p, op = call.params, call.operation
        bucket = f"arn:aws:s3:::{p.get('Bucket', '')}"
        obj = f"{bucket}/{p.get('Key', '')}"
        if op in ("ListObjects", "ListObjectsV2", "ListObjectVersions", "HeadBucket"):
            return [Request("s3:ListBucket", bucket, (("s3:prefix", p.get("Prefix", "")),))]
        if op in ("GetObject", "HeadObject"):
            return [Request("s3:GetObject", obj), *self._via("s3", bucket, "kms:Decrypt")]
        if op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
                  "PostObject"):
            return [Request("s3:PutObject", obj), *self._via("s3", bucket, "kms:GenerateDataKey")]
        if op == "DeleteObject":
            return [Request("s3:DeleteObject", obj)]
        if op == "DeleteObjects":
            return [Request("s3:DeleteObject", f"{bucket}/{o['Key']}")
                    for o in p.get("Delete", {}).get("Objects", [])]
        return [Request(f"s3:{op}", bucket)]

    def _secretsmanager(self, call: Call) -> list[Request]:
        secret_id = str(call.params.get("SecretId") or call.params.get("Name") or "")
        secret = self.secret_arns.get(secret_id, secret_id)
        found = [Request(f"secretsmanager:{call.operation}", secret)]
        if call.operation == "GetSecretValue":
            found += self._via("secretsmanager", secret, "kms:Decrypt")
        if call.operation == "PutSecretValue":
            found += self._via("secretsmanager", secret, "kms:GenerateDataKey")
        return found

    def _ssm(self, call: Call) -> list[Request]:
        names = call.params.get("Names") or [call.params.get("Name", "")]
        return [Request(f"ssm:{call.operation}",
                        self.arn("ssm", "parameter/" + n.split(":")[0].lstrip("/")))
                for n in names]

    def _cognito_idp(self, call: Call) -> list[Request]:
        pool = self.arn("cognito-idp", f"userpool/{call.params.get('UserPoolId', '*')}")
        return [Request(f"cognito-idp:{call.operation}", pool)]

    def _ses(self, call: Call) -> list[Request]:
        sender = str(call.params.get("FromEmailAddress") or call.params.get("Source") or "")
        sender = sender.rsplit("<", 1)[-1].rstrip(">")
        context = (("ses:FromAddress", sender),)
        found = [Request(f"ses:{call.operation}",
                         self.arn("ses", f"identity/{self.ses_identity(sender)}"), context)]
        if call.params.get("ConfigurationSetName"):
            found.append(Request(f"ses:{call.operation}", self.arn(
                "ses", f"configuration-set/{call.params['ConfigurationSetName']}"), context))
        return found

    def _kms(self, call: Call) -> list[Request]:
        return [Request(f"kms:{call.operation}", str(call.params.get("KeyId", "*")))]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


CONDITIONS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda want, have: want == have,
    "StringNotEquals": lambda want, have: want != have,
    "StringEqualsIgnoreCase": lambda want, have: want.lower() == have.lower(),
    "StringLike": _like,
    "StringNotLike": lambda want, have: not _like(want, have),
    "ArnEquals": lambda want, have: want == have,
    "ArnLike": _like,
    "Bool": lambda want, have: want.lower() == have.lower(),
}


@dataclass
class Policy:
    """The statements of one role's identity policies."""

    role: str
    statements: list[dict[str, Any]]

    @classmethod
    def from_documents(cls, role: str, documents: list[str]) -> Policy:
        return cls(role, [s for d in documents for s in _listed(json.loads(d)["Statement"])])

    def _matches(self, statement: dict[str, Any], request: Request) -> bool:
        if "Action" in statement:
            if not any(_like(a, request.action, case=False) for a in _listed(statement["Action"])):
                return False
        elif any(_like(a, request.action, case=False) for a in _listed(statement["NotAction"])):
            return False
        if "Resource" in statement:
            if not any(_like(r, request.resource) for r in _listed(statement["Resource"])):
                return False
        elif any(_like(r, request.resource) for r in _listed(statement["NotResource"])):
            return False
        context = dict(request.context)
        for operator, keys in statement.get("Condition", {}).items():
            test = CONDITIONS.get(operator.removesuffix("IfExists"))
            if test is None:
                raise AssertionError(f"{self.role}: condition {operator} is not evaluated here")
            for key, wanted in keys.items():
                if key not in context:
                    if operator.endswith("IfExists"):
                        continue
                    return False
                if not any(test(str(w), context[key]) for w in _listed(wanted)):
                    return False
        return True

    def allows(self, request: Request) -> bool:
        matching = [s for s in self.statements if self._matches(s, request)]
        return (any(s.get("Effect") == "Allow" for s in matching)
                and not any(s.get("Effect") == "Deny" for s in matching))

    def refused(self, estate: Estate, calls: list[Call]) -> list[str]:
        """Every authorization the calls need that this policy does not grant."""
        needed = dict.fromkeys(r for c in calls for r in estate.requests(c))
        return [f"{self.role} may not {r}" for r in needed if not self.allows(r)]
