"""Provider-semantics rules: pitfalls that parse, validate and pass checkov, yet break an
apply or a running service because of how the AWS provider or AWS itself behaves.

Each rule reads the serialized HCL (deploy_support.Terraform) and returns findings; each
has a fixture in test_provider_rules.py that it must flag. Where a rule needs a module
variable's value, it follows the module calls of deploy/terraform/environments/* to the
environments' terraform.tfvars.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy_support import Terraform, nested, parse_hcl

SSM_VALUES = {"value", "insecure_value"}
REFERENCE = re.compile(r"\b(aws_[a-z0-9_]+)\.([a-z0-9_-]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)")


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.message}"


def strings(value: Any) -> Iterator[str]:
    """Every string inside a parsed value (expressions come back as "${...}" strings)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def text(value: Any) -> str:
    return " ".join(strings(value))


def _locals(tree: Terraform, module: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path, doc in tree.files.items():
        if path.parent == module:
            for block in doc.get("locals", []):
                found.update(block)
    return found


def expand(tree: Terraform, module: Path, value: Any) -> str:
    """The value's text with the `local.x` it names appended (one level deep)."""
    base = text(value)
    names = re.findall(r"\blocal\.(\w+)", base)
    known = _locals(tree, module)
    return " ".join([base, *(text(known[n]) for n in names if n in known)])


def variable_values(tree: Terraform, module: Path, name: str) -> list[tuple[str, Any]]:
    """(where, value) of module variable `name` in every environment that calls the module,
    following `var.x` to the environment's terraform.tfvars; literals come back as is."""
    values: list[tuple[str, Any]] = []
    for call in tree.blocks("module"):
        if (call.path.parent / str(call.body.get("source", ""))).resolve() != module.resolve():
            continue
        if name not in call.body:
            continue
        argument = call.body[name]
        match = re.fullmatch(r"\$\{var\.(\w+)\}", str(argument))
        if match:
            tfvars = call.path.parent / "terraform.tfvars"
            if tfvars.exists():
                value = parse_hcl(tfvars.read_text()).get(match.group(1))
                values.append((f"{tfvars.parent.name}: {match.group(1)}", value))
        else:
            values.append((call.where, argument))
    return values


def _output(tree: Terraform, module: Path, name: str) -> dict[str, Any] | None:
    for output in tree.blocks("output"):
        if output.path.parent == module and output.name == name:
            return output.body
    return None


def fed_by_outputs(tree: Terraform, module: Path, variable: str) -> list[dict[str, Any]]:
    """The module outputs (bodies) that environments pass into `var.<variable>`."""
    bodies = []
    for call in tree.blocks("module"):
        if (call.path.parent / str(call.body.get("source", ""))).resolve() != module.resolve():
            continue
        for producer, output in re.findall(r"module\.(\w+)\.(\w+)", text(call.body.get(variable))):
            source = next(
                (m for m in tree.blocks("module", under=call.path.parent) if m.name == producer),
                None,
            )
            if source is not None:
                body = _output(tree, (call.path.parent / source.body["source"]).resolve(), output)
                if body is not None:
                    bodies.append(body)
    return bodies


def depends_on(body: dict[str, Any]) -> str:
    return text(body.get("depends_on", []))


# ---------------------------------------------------------------------------------------
# The rules


def ssm_value_attribute_read(tree: Terraform) -> list[Finding]:
    """The provider fills `insecure_value` on read only when that argument is set, and
    `value` otherwise: reading the other one yields nothing (resourceParameterRead). And
    ignore_changes must name the argument that is set, or every apply writes it back."""
    parameters = {b.name: b for b in tree.resources("aws_ssm_parameter")}
    findings = []
    for parameter in parameters.values():
        for lifecycle in nested(parameter.body, "lifecycle"):
            ignored = set(lifecycle.get("ignore_changes", [])) & SSM_VALUES
            if ignored - set(parameter.body):
                findings.append(
                    Finding(
                        "ssm-value-attribute",
                        parameter.where,
                        f"ignore_changes {sorted(ignored)} names an argument it does not set",
                    )
                )
    for path, doc in tree.files.items():
        for type_, name, attribute in REFERENCE.findall(text(doc)):
            if type_ != "aws_ssm_parameter" or attribute not in ("value", "insecure_value"):
                continue
            parameter = parameters.get(name)
            if parameter is not None and attribute not in parameter.body:
                findings.append(
                    Finding(
                        "ssm-value-attribute",
                        f"{path.name}: {type_}.{name}.{attribute}",
                        f"read, but the parameter sets {sorted(set(parameter.body) & SSM_VALUES)}",
                    )
                )
    return findings


def threat_protection_needs_plus(tree: Terraform) -> list[Finding]:
    """advanced_security_mode AUDIT/ENFORCED exists on the PLUS tier only; new pools are
    ESSENTIALS and AWS answers FeatureUnavailableInTierException."""
    findings = []
    for pool in tree.resources("aws_cognito_user_pool"):
        literal = [b.get("advanced_security_mode") for b in nested(pool.body, "user_pool_add_ons")]
        dynamic = [
            d["user_pool_add_ons"] for d in pool.body.get("dynamic", []) if "user_pool_add_ons" in d
        ]
        modes = [m for m in literal if m not in (None, "OFF")]
        guarded = all('"PLUS"' in text(d.get("for_each")) for d in dynamic)
        if dynamic and not guarded:
            modes.append("dynamic")
        tier = pool.body.get("user_pool_tier")
        if modes and tier != "PLUS" and not (not literal and guarded):
            findings.append(
                Finding("cognito-tier", pool.where, f"threat protection {modes} on tier {tier}")
            )
    return findings


def minor_version_with_auto_upgrade(tree: Terraform) -> list[Finding]:
    """With auto_minor_version_upgrade (the default), a pinned minor turns every apply after
    the first upgrade into a downgrade attempt; the provider ignores the patch only when the
    configured version is a prefix of the actual one (compareActualEngineVersion)."""
    findings = []
    for db in [*tree.resources("aws_db_instance"), *tree.resources("aws_rds_cluster")]:
        if db.body.get("auto_minor_version_upgrade", True) in (False, "false"):
            continue
        version = db.body.get("engine_version")
        match = re.fullmatch(r"\$\{var\.(\w+)\}", str(version))
        candidates = (
            variable_values(tree, db.path.parent, match.group(1))
            if match
            else [(db.where, version)]
        )
        for where, value in candidates:
            if value is not None and "." in str(value):
                findings.append(
                    Finding("engine-minor", f"{db.where} <- {where}", f"engine_version {value}")
                )
    return findings


def elasticache_alarm_dimension(tree: Terraform) -> list[Finding]:
    """ElastiCache publishes host and engine metrics per node (CacheClusterId); an alarm on
    ReplicationGroupId matches no data point."""
    findings = []
    for alarm in tree.resources("aws_cloudwatch_metric_alarm"):
        metrics = [alarm.body, *nested(alarm.body, "metric_query", "metric")]
        for metric in metrics:
            if metric.get("namespace") == "AWS/ElastiCache" and "ReplicationGroupId" in text(
                list(dict(metric.get("dimensions") or {}).keys())
            ):
                findings.append(
                    Finding(
                        "elasticache-dimension", alarm.where, "dimensioned by ReplicationGroupId"
                    )
                )
    return findings


def propagate_tags_needs_tag_resource(tree: Terraform) -> list[Finding]:
    """A scheduled ECS target with propagate_tags makes ECS tag the task: the target's
    role needs ecs:TagResource (ecs:CreateAction = RunTask), as in AWS's managed
    AmazonEC2ContainerServiceEventsRole."""
    documents = {d.name: d for d in tree.data("aws_iam_policy_document")}
    findings = []
    for target in tree.resources("aws_cloudwatch_event_target"):
        if not any(e.get("propagate_tags") for e in nested(target.body, "ecs_target")):
            continue
        role = re.search(r"aws_iam_role\.(\w+)\.arn", text(target.body.get("role_arn")))
        granted = ""
        for policy in tree.resources("aws_iam_role_policy"):
            if role and f"aws_iam_role.{role.group(1)}." in text(policy.body.get("role")):
                for name in re.findall(r"aws_iam_policy_document\.(\w+)\.json", text(policy.body)):
                    granted += text(documents[name].body) if name in documents else ""
        for attachment in tree.resources("aws_iam_role_policy_attachment"):
            if role and f"aws_iam_role.{role.group(1)}." in text(attachment.body.get("role")):
                granted += text(attachment.body.get("policy_arn"))
        if (
            "ecs:TagResource" not in granted
            and "AmazonEC2ContainerServiceEventsRole" not in granted
        ):
            findings.append(
                Finding("propagate-tags", target.where, "the role may not ecs:TagResource")
            )
    return findings


def backend_encrypt_names_the_key(backends: dict[Path, dict[str, Any]]) -> list[Finding]:
    """`encrypt = true` without kms_key_id sends AES256 with every write: SSE-S3, whatever
    the bucket's default (Terraform's S3 backend, RemoteClient.PutObject)."""
    return [
        Finding("backend-kms", str(path.name), "encrypt = true without kms_key_id")
        for path, config in backends.items()
        if config.get("encrypt") in (True, "true") and not config.get("kms_key_id")
    ]


def monitoring_role_attached_first(tree: Terraform) -> list[Finding]:
    """RDS checks the enhanced-monitoring role's permissions on CreateDBInstance: the
    instance must depend on the policy attachment, not only on the role."""
    findings = []
    for db in tree.resources("aws_db_instance"):
        role = re.search(r"aws_iam_role\.(\w+)\.arn", text(db.body.get("monitoring_role_arn")))
        if not role:
            continue
        attachments = [
            a.name
            for a in tree.resources("aws_iam_role_policy_attachment", db.path.parent)
            if f"aws_iam_role.{role.group(1)}." in text(a.body.get("role"))
        ]
        if not any(
            f"aws_iam_role_policy_attachment.{a}" in depends_on(db.body) for a in attachments
        ):
            findings.append(
                Finding("monitoring-role", db.where, "no depends_on the role's policy attachment")
            )
    return findings


# (resource type, nested block or "", attribute naming the log bucket)
LOG_DELIVERIES = (
    ("aws_lb", "access_logs", "bucket"),
    ("aws_cloudfront_distribution", "logging_config", "bucket"),
    ("aws_cloudtrail", "", "s3_bucket_name"),
    ("aws_s3_bucket_logging", "", "target_bucket"),
)


def log_delivery_after_bucket_policy(tree: Terraform) -> list[Finding]:
    """Log deliveries check their write access when they are configured (the ALB answers
    "Access Denied for bucket"): the bucket's policy must exist first, through depends_on
    here or on the module output that hands the bucket over."""
    findings = []
    for type_, block, attribute in LOG_DELIVERIES:
        for resource in tree.resources(type_):
            holders = list(nested(resource.body, block)) if block else [resource.body]
            for holder in holders:
                if holder.get("enabled") in (False, "false"):
                    continue
                reference = text(holder.get(attribute))
                if "aws_s3_bucket_policy" in depends_on(resource.body):
                    continue
                variable = re.fullmatch(r"\$\{var\.(\w+)\}", reference)
                outputs = (
                    fed_by_outputs(tree, resource.path.parent, variable.group(1))
                    if variable
                    else []
                )
                if outputs and all("aws_s3_bucket_policy" in depends_on(o) for o in outputs):
                    continue
                findings.append(
                    Finding("log-bucket-policy", resource.where, f"{reference} before its policy")
                )
    return findings


def cognito_mail_through_verified_identity(tree: Terraform) -> list[Finding]:
    """Cognito sends through SES (DEVELOPER) only from a verified identity: the choice must
    depend on the identity's verification, not only on a wish."""
    findings = []
    for pool in tree.resources("aws_cognito_user_pool"):
        for mail in nested(pool.body, "email_configuration"):
            account = expand(tree, pool.path.parent, mail.get("email_sending_account"))
            if "DEVELOPER" in account and "verified" not in account:
                findings.append(
                    Finding("ses-verified", pool.where, "DEVELOPER without a verification check")
                )
    return findings


RULES: dict[str, Callable[[Terraform], list[Finding]]] = {
    "ssm-value-attribute": ssm_value_attribute_read,
    "cognito-tier": threat_protection_needs_plus,
    "engine-minor": minor_version_with_auto_upgrade,
    "elasticache-dimension": elasticache_alarm_dimension,
    "propagate-tags": propagate_tags_needs_tag_resource,
    "monitoring-role": monitoring_role_attached_first,
    "log-bucket-policy": log_delivery_after_bucket_policy,
    "ses-verified": cognito_mail_through_verified_identity,
}


def check(tree: Terraform) -> list[Finding]:
    return [finding for rule in RULES.values() for finding in rule(tree)]
