"""Provider-semantics rules (rules.py) and the provider-schema check (schema_check.py).

Each rule gets a small estate that falls into its pitfall (it must be flagged) and the
same estate fixed (it must pass); the real estate must pass every rule. The fixtures are
written as files, laid out like deploy/terraform, because some rules follow module calls
to the environments' terraform.tfvars.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy_support import ENVIRONMENTS_DIR, Terraform, parse_hcl
from provider_schema import load as load_schema
from provider_schema import used_types
from rules import RULES, backend_encrypt_names_the_key, check
from schema_check import schema_findings

Files = dict[str, str]

SSM = """
resource "aws_ssm_parameter" "tag" {
  name = "/x/tag"
  type = "String"
  %s = "bootstrap"
}
locals { image = "repo:${aws_ssm_parameter.tag.insecure_value}" }
"""

POOL_TIER = """
resource "aws_cognito_user_pool" "this" {
  name = "x"
  %s
  user_pool_add_ons { advanced_security_mode = "ENFORCED" }
}
"""

DB = """
resource "aws_db_instance" "this" {
  engine         = "postgres"
  engine_version = "%s"
  instance_class = "db.t4g.micro"
}
"""

MODULE_DB = """
variable "engine_version" {
  type        = string
  description = "x"
}
resource "aws_db_instance" "this" {
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = "db.t4g.micro"
}
"""

ENV_CALLING_DB = """
module "data" {
  source         = "../../modules/data"
  engine_version = var.db_engine_version
}
"""

REDIS_ALARM = """
resource "aws_cloudwatch_metric_alarm" "redis" {
  alarm_name          = "x"
  namespace           = "AWS/ElastiCache"
  metric_name         = "EngineCPUUtilization"
  dimensions          = { %s = "atelier-prod-001" }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 1
  threshold           = 80
  comparison_operator = "GreaterThanThreshold"
}
"""

SCHEDULE = """
resource "aws_iam_role" "events" {
  name               = "events"
  assume_role_policy = "{}"
}
data "aws_iam_policy_document" "events" {
  statement {
    actions   = [%s]
    resources = ["*"]
  }
}
resource "aws_iam_role_policy" "events" {
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}
resource "aws_cloudwatch_event_target" "schedule" {
  rule     = "x"
  arn      = "arn:aws:ecs:ap-northeast-1:111111111111:cluster/x"
  role_arn = aws_iam_role.events.arn
  ecs_target {
    task_definition_arn = "arn:aws:ecs:ap-northeast-1:111111111111:task-definition/x"
    propagate_tags      = "TASK_DEFINITION"
  }
}
"""

MONITORED_DB = """
resource "aws_iam_role" "monitoring" {
  name               = "monitoring"
  assume_role_policy = "{}"
}
resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
resource "aws_db_instance" "this" {
  engine              = "postgres"
  engine_version      = "16"
  instance_class      = "db.t4g.micro"
  monitoring_interval = 30
  monitoring_role_arn = aws_iam_role.monitoring.arn
  %s
}
"""

SECURITY_OUTPUT = """
resource "aws_s3_bucket" "logs" { bucket_prefix = "logs-" }
resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = "{}"
}
output "logs_bucket_id" {
  description = "x"
  value       = aws_s3_bucket.logs.id
  %s
}
"""

EDGE_ALB = """
variable "logs_bucket_id" {
  type        = string
  description = "x"
}
resource "aws_lb" "this" {
  name = "x"
  access_logs {
    bucket  = var.logs_bucket_id
    enabled = true
  }
}
"""

ENV_CALLING_EDGE = """
module "security" { source = "../../modules/security" }
module "edge" {
  source         = "../../modules/edge"
  logs_bucket_id = module.security.logs_bucket_id
}
"""

POOL_MAIL = """
variable "via_ses" {
  type        = bool
  description = "x"
}
variable "identity_verified" {
  type        = bool
  description = "x"
}
locals { via_ses = %s }
resource "aws_cognito_user_pool" "this" {
  name = "x"
  email_configuration {
    email_sending_account = local.via_ses ? "DEVELOPER" : "COGNITO_DEFAULT"
  }
}
"""

# rule -> (estate in the pitfall, the same estate fixed)
FIXTURES: dict[str, tuple[Files, Files]] = {
    "ssm-value-attribute": (
        {"modules/compute/main.tf": SSM % "value"},
        {"modules/compute/main.tf": SSM % "insecure_value"},
    ),
    "cognito-tier": (
        {"modules/identity/main.tf": POOL_TIER % ""},
        {"modules/identity/main.tf": POOL_TIER % 'user_pool_tier = "PLUS"'},
    ),
    "engine-minor": (
        {
            "modules/data/main.tf": MODULE_DB,
            "environments/dev/main.tf": ENV_CALLING_DB,
            "environments/dev/terraform.tfvars": 'db_engine_version = "16.4"\n',
        },
        {
            "modules/data/main.tf": MODULE_DB,
            "environments/dev/main.tf": ENV_CALLING_DB,
            "environments/dev/terraform.tfvars": 'db_engine_version = "16"\n',
        },
    ),
    "elasticache-dimension": (
        {"modules/observability/main.tf": REDIS_ALARM % "ReplicationGroupId"},
        {"modules/observability/main.tf": REDIS_ALARM % "CacheClusterId"},
    ),
    "propagate-tags": (
        {"modules/compute/main.tf": SCHEDULE % '"ecs:RunTask"'},
        {"modules/compute/main.tf": SCHEDULE % '"ecs:RunTask", "ecs:TagResource"'},
    ),
    "monitoring-role": (
        {"modules/data/main.tf": MONITORED_DB % ""},
        {
            "modules/data/main.tf": MONITORED_DB
            % "depends_on = [aws_iam_role_policy_attachment.monitoring]"
        },
    ),
    "log-bucket-policy": (
        {
            "modules/security/main.tf": SECURITY_OUTPUT % "",
            "modules/edge/main.tf": EDGE_ALB,
            "environments/dev/main.tf": ENV_CALLING_EDGE,
        },
        {
            "modules/security/main.tf": SECURITY_OUTPUT
            % "depends_on = [aws_s3_bucket_policy.logs]",
            "modules/edge/main.tf": EDGE_ALB,
            "environments/dev/main.tf": ENV_CALLING_EDGE,
        },
    ),
    "ses-verified": (
        {"modules/identity/main.tf": POOL_MAIL % "var.via_ses"},
        {"modules/identity/main.tf": POOL_MAIL % "var.via_ses && var.identity_verified"},
    ),
}


def _estate(root: Path, files: Files) -> Terraform:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return Terraform(root)


def test_ignore_changes_must_name_the_value_argument_that_is_set(tmp_path: Path) -> None:
    """The pipeline rewrites the image tag; ignoring `value` while setting
    `insecure_value` would let every apply put the first tag back."""
    estate = _estate(
        tmp_path,
        {
            "modules/compute/main.tf": """
resource "aws_ssm_parameter" "tag" {
  name           = "/x/tag"
  type           = "String"
  insecure_value = "bootstrap"
  lifecycle { ignore_changes = [value] }
}
"""
        },
    )
    (finding,) = RULES["ssm-value-attribute"](estate)
    assert "ignore_changes" in finding.message


def test_every_rule_has_a_fixture() -> None:
    assert set(FIXTURES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(FIXTURES))
def test_rule_flags_its_pitfall_and_passes_the_fix(rule: str, tmp_path: Path) -> None:
    broken, fixed = FIXTURES[rule]
    findings = RULES[rule](_estate(tmp_path / "broken", broken))
    assert findings and {f.rule for f in findings} == {rule}, findings
    assert RULES[rule](_estate(tmp_path / "fixed", fixed)) == []


def test_the_estate_breaks_no_provider_rule(terraform: Terraform) -> None:
    findings = check(terraform)
    assert not findings, "\n".join(map(str, findings))


def test_state_backends_name_their_kms_key() -> None:
    backends = {p: parse_hcl(p.read_text()) for p in ENVIRONMENTS_DIR.glob("*/backend.hcl")}
    assert len(backends) == 2
    assert backend_encrypt_names_the_key(backends) == []
    unnamed = {Path("backend.hcl"): {"encrypt": True, "use_lockfile": True}}
    assert [f.rule for f in backend_encrypt_names_the_key(unnamed)] == ["backend-kms"]


# ---------------------------------------------------------------------------------------
# The provider's schema


def test_the_committed_schema_covers_every_type_in_use() -> None:
    schema = load_schema()
    resources, data = used_types()
    assert resources <= set(schema["resource"]) and data <= set(schema["data"]), (
        "regenerate tests/deploy/aws_provider_schema.json (provider_schema.py)"
    )


def test_every_argument_and_reference_is_in_the_provider_schema(terraform: Terraform) -> None:
    findings = schema_findings(terraform, load_schema())
    assert not findings, "\n".join(map(str, findings))


def test_schema_check_flags_unknown_computed_missing_and_unexported(tmp_path: Path) -> None:
    estate = _estate(
        tmp_path,
        {
            "modules/x/main.tf": """
resource "aws_ssm_parameter" "p" {
  name     = "/x"
  values   = "typo"
  version  = 3
  lifecycle { ignore_changes = [value] }
}
resource "aws_sqs_queue" "q" {
  name = "q"
  dynamic "redrive" {
    for_each = []
    content {}
  }
}
locals { url = aws_sqs_queue.q.queue_url }
"""
        },
    )
    messages = {f.message for f in schema_findings(estate, load_schema())}
    assert messages == {
        "unknown argument values",
        "version is computed only",
        "required argument type missing",
        "unknown dynamic block redrive",
        "aws_sqs_queue exports no attribute queue_url",
    }
