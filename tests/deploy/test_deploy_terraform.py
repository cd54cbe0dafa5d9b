"""Invariants of the Terraform estate (deploy/terraform), read from the HCL itself.

These are the properties a reviewer would otherwise check by eye on every change:
data stays private and encrypted, the ALB is reachable from CloudFront only, the path
rules keep their order, WAF keeps its rules, IAM stays least-privilege, and dev and prod
are the same code with different variables.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    ENVIRONMENTS_DIR,
    MODULES_DIR,
    TERRAFORM_DIR,
    Block,
    Terraform,
    nested,
    one,
    parse_hcl,
)

EXPECTED_MODULES = {
    "network",
    "data",
    "queue",
    "identity",
    "compute",
    "edge",
    "security",
    "observability",
    "cicd",
}
ENVIRONMENTS = ("dev", "prod")
ECS_SERVICES = {"mobile-api", "admin-api", "gateway", "console", "worker"}

# Actions allowed on Resource "*" in an Allow statement, each because AWS offers no
# resource-level permission for it (or, in a key policy, "*" means the key itself).
# Anything else on "*" fails the test: scope it to ARNs or add it here with a reason.
ALLOWED_ON_ANY_RESOURCE: dict[str, str] = {
    "kms:*": "key policy account-root statement: in a key policy Resource '*' is this key; "
    "it delegates use of the key to IAM (AWS default key policy)",
    "kms:Encrypt": "key policy statement for a service principal (CloudWatch Logs); "
    "'*' is this key, scoped further by an encryption-context condition",
    "kms:Decrypt": "key policy statement for a service principal (Logs, CloudWatch, "
    "EventBridge); '*' is this key, scoped by conditions",
    "kms:ReEncrypt*": "key policy statement for CloudWatch Logs; '*' is this key",
    "kms:GenerateDataKey*": "key policy statement for a service principal (Logs, "
    "CloudTrail, CloudWatch); '*' is this key, scoped by conditions",
    "kms:Describe*": "key policy statement for CloudWatch Logs; '*' is this key",
    "elasticloadbalancing:DescribeTargetHealth": "the gateway reads its own target's state; "
    "the action has no resource-level permissions (Service Authorization Reference)",
    "kms:DescribeKey": "key policy statement for CloudTrail; '*' is this key",
    "ecr:GetAuthorizationToken": "registry login token is account-wide; no resource type",
    "ecs:DescribeTaskDefinition": "no resource-level permission in ECS",
    "ecs:RegisterTaskDefinition": "no resource-level permission in ECS",
    "ec2:CreateNetworkInterface": "Lambda in a VPC (AWSLambdaVPCAccessExecutionRole)",
    "ec2:DescribeNetworkInterfaces": "Describe* calls support no resource scoping",
    "ec2:DeleteNetworkInterface": "Lambda in a VPC (AWSLambdaVPCAccessExecutionRole)",
    "ec2:AssignPrivateIpAddresses": "Lambda in a VPC (AWSLambdaVPCAccessExecutionRole)",
    "ec2:UnassignPrivateIpAddresses": "Lambda in a VPC (AWSLambdaVPCAccessExecutionRole)",
    "xray:PutTraceSegments": "X-Ray writes support no resource scoping",
    "xray:PutTelemetryRecords": "X-Ray writes support no resource scoping",
}


def _tfvars(env: str) -> dict[str, Any]:
    return parse_hcl((ENVIRONMENTS_DIR / env / "terraform.tfvars").read_text())


def module_dir(name: str) -> Path:
    return MODULES_DIR / name


def refs(value: Any) -> str:
    """Any attribute value as one string, to look for references in expressions."""
    return str(value)


def is_true(value: Any) -> bool:
    return value is True or value == "true"


def is_false(value: Any) -> bool:
    return value is False or value == "false"


# ---------------------------------------------------------------------------------------
# Shape


def test_every_tf_file_parses(terraform: Terraform) -> None:
    assert len(terraform.files) > 20
    for path, doc in terraform.files.items():
        assert isinstance(doc, dict), path


def test_modules_and_environments_exist() -> None:
    modules = {p.name for p in MODULES_DIR.iterdir() if p.is_dir()}
    assert modules >= EXPECTED_MODULES
    for env in ENVIRONMENTS:
        assert (ENVIRONMENTS_DIR / env / "main.tf").is_file()
        assert (ENVIRONMENTS_DIR / env / "terraform.tfvars").is_file()
        assert (ENVIRONMENTS_DIR / env / "backend.hcl").is_file()


def test_every_variable_has_a_description_and_a_type(terraform: Terraform) -> None:
    variables = terraform.blocks("variable")
    assert len(variables) > 100
    missing = [
        v.where
        for v in variables
        if not str(v.body.get("description", "")).strip() or "type" not in v.body
    ]
    assert not missing, f"variables without description or type: {missing}"


def test_every_output_has_a_description(terraform: Terraform) -> None:
    missing = [o.where for o in terraform.blocks("output") if not o.body.get("description")]
    assert not missing


def test_provider_versions_are_pinned(terraform: Terraform) -> None:
    for path, doc in terraform.files.items():
        for block in doc.get("terraform", []):
            for providers in block.get("required_providers", []):
                aws = providers.get("aws")
                if aws:
                    assert str(aws["version"]).startswith("~> 5."), path


# ---------------------------------------------------------------------------------------
# Environments: the same modules, different variables


def test_dev_and_prod_share_identical_terraform_code() -> None:
    dev = {p.name: p.read_text() for p in (ENVIRONMENTS_DIR / "dev").glob("*.tf")}
    prod = {p.name: p.read_text() for p in (ENVIRONMENTS_DIR / "prod").glob("*.tf")}
    assert set(dev) == set(prod), "dev and prod must have the same .tf files"
    different = [name for name in dev if dev[name] != prod[name]]
    assert not different, f"dev and prod may differ only in variables, not in {different}"


def test_environments_call_every_module_from_modules_dir(terraform: Terraform) -> None:
    for env in ENVIRONMENTS:
        calls = terraform.blocks("module", under=ENVIRONMENTS_DIR / env)
        sources = {m.body["source"] for m in calls}
        assert sources == {f"../../modules/{name}" for name in EXPECTED_MODULES}, env


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_tfvars_set_exactly_the_declared_variables(terraform: Terraform, env: str) -> None:
    declared = {v.name for v in terraform.blocks("variable", under=ENVIRONMENTS_DIR / env)}
    values = parse_hcl((ENVIRONMENTS_DIR / env / "terraform.tfvars").read_text())
    assert set(values) == declared
    assert values["environment"] == env


def test_environments_differ_in_values() -> None:
    dev = parse_hcl((ENVIRONMENTS_DIR / "dev" / "terraform.tfvars").read_text())
    prod = parse_hcl((ENVIRONMENTS_DIR / "prod" / "terraform.tfvars").read_text())
    assert dev["vpc_cidr"] != prod["vpc_cidr"]
    assert dev["domain_name"] != prod["domain_name"]
    assert prod["single_nat_gateway"] is False, "prod needs one NAT gateway per AZ"
    for env, values in (("dev", dev), ("prod", prod)):
        assert values["lambda_zip_path"].endswith("lambda/build/cognito_triggers.zip"), env
        resolved = (ENVIRONMENTS_DIR / env / values["lambda_zip_path"]).resolve()
        assert resolved == TERRAFORM_DIR.parent / "lambda" / "build" / "cognito_triggers.zip"


def test_state_backend_is_s3_with_locking() -> None:
    for env in ENVIRONMENTS:
        versions = parse_hcl((ENVIRONMENTS_DIR / env / "versions.tf").read_text())
        backend = versions["terraform"][0]["backend"][0]
        assert "s3" in backend
        config = parse_hcl((ENVIRONMENTS_DIR / env / "backend.hcl").read_text())
        assert config["encrypt"] is True and config["use_lockfile"] is True
        assert config["kms_key_id"].endswith(":alias/atelier-tfstate"), "state under the CMK"
        assert config["key"] == f"atelier/{env}/terraform.tfstate"


# ---------------------------------------------------------------------------------------
# Network


def test_vpc_has_three_tiers_over_two_azs(terraform: Terraform) -> None:
    network = module_dir("network")
    for tier in ("public", "app", "data"):
        subnet = terraform.resource("aws_subnet", tier, network)
        assert "var.availability_zones" in refs(subnet.body["for_each"]) or "az_index" in refs(
            subnet.body["for_each"]
        )
    validation = one(
        next(
            v.body
            for v in terraform.blocks("variable", under=network)
            if v.name == "availability_zones"
        ),
        "validation",
    )
    assert "== 2" in refs(validation["condition"])
    public = terraform.resource("aws_subnet", "public", network)
    assert is_false(public.body["map_public_ip_on_launch"])
    # The data tier has no route out of the VPC.
    routes = terraform.resources("aws_route", network)
    assert not [r for r in routes if "aws_route_table.data" in refs(r.body)]


def test_vpc_endpoints(terraform: Terraform) -> None:
    s3 = terraform.resource("aws_vpc_endpoint", "s3", module_dir("network"))
    assert s3.body["vpc_endpoint_type"] == "Gateway"
    interface = terraform.resource("aws_vpc_endpoint", "interface", module_dir("network"))
    assert interface.body["vpc_endpoint_type"] == "Interface"
    assert is_true(interface.body["private_dns_enabled"])
    # prod keeps AWS API traffic on endpoints; dev saves their hourly cost and uses NAT.
    prod = _tfvars("prod")["interface_endpoints"]
    assert set(prod) >= {
        "sqs",
        "secretsmanager",
        "ecr.api",
        "ecr.dkr",
        "logs",
        "ssm",
        "ssmmessages",
    }
    assert set(_tfvars("dev")["interface_endpoints"]) < set(prod)
    for env in ENVIRONMENTS:
        network_call = next(
            m
            for m in terraform.blocks("module", under=ENVIRONMENTS_DIR / env)
            if m.name == "network"
        )
        assert network_call.body["interface_endpoints"] == "${var.interface_endpoints}"


def test_alb_accepts_cloudfront_prefix_list_only(terraform: Terraform) -> None:
    network = module_dir("network")
    prefix_list = one(
        {"d": [d.body for d in terraform.data("aws_ec2_managed_prefix_list", network)]}, "d"
    )
    assert prefix_list["name"] == "com.amazonaws.global.cloudfront.origin-facing"

    alb_groups = {"alb_https", "alb_http"}
    ingress = [
        r
        for r in terraform.resources("aws_vpc_security_group_ingress_rule", network)
        if any(
            f"aws_security_group.{g}.id" in refs(r.body["security_group_id"]) for g in alb_groups
        )
    ]
    assert {r.name for r in ingress} == {"alb_https_from_cloudfront", "alb_http_from_cloudfront"}
    for rule in ingress:
        assert "data.aws_ec2_managed_prefix_list.cloudfront.id" in refs(rule.body["prefix_list_id"])
        assert not {"cidr_ipv4", "cidr_ipv6", "referenced_security_group_id"} & set(rule.body)

    # ...and the ALB uses exactly those groups.
    alb = terraform.resource("aws_lb", "this", module_dir("edge"))
    assert refs(alb.body["security_groups"]) == "${var.alb_security_group_ids}"
    outputs = {o.name: o.body for o in terraform.blocks("output", under=network)}
    assert outputs["alb_security_group_ids"]["value"] == [
        "${aws_security_group.alb_https.id}",
        "${aws_security_group.alb_http.id}",
    ]


def test_no_ingress_from_the_whole_internet(terraform: Terraform) -> None:
    for rule in terraform.resources("aws_vpc_security_group_ingress_rule"):
        assert rule.body.get("cidr_ipv4") != "0.0.0.0/0", rule.where
        assert rule.body.get("cidr_ipv6") != "::/0", rule.where
    for group in terraform.resources("aws_security_group"):
        assert "ingress" not in group.body, f"{group.where}: use separate rule resources"


def test_bastion_has_no_inbound_rule_and_no_public_ip(terraform: Terraform) -> None:
    for rule in terraform.resources("aws_vpc_security_group_ingress_rule"):
        if "workload[each.key]" in refs(rule.body["security_group_id"]):
            for_each = refs(rule.body.get("for_each"))
            assert "http_workloads" in for_each, rule.where
    locals_ = [
        loc
        for path, doc in terraform.files.items()
        if path.parent == module_dir("network")
        for loc in doc.get("locals", [])
    ]
    workloads = next(loc["workloads"] for loc in locals_ if "workloads" in loc)
    assert workloads["bastion"]["from_alb"] is False
    bastion = terraform.resource("aws_instance", "bastion", module_dir("compute"))
    assert is_false(bastion.body["associate_public_ip_address"])
    assert "key_name" not in bastion.body, "no SSH key: SSM Session Manager only"
    assert one(bastion.body, "metadata_options")["http_tokens"] == "required"
    assert is_true(one(bastion.body, "root_block_device")["encrypted"])
    ssm = terraform.resource("aws_iam_role_policy_attachment", "bastion_ssm", module_dir("compute"))
    assert ssm.body["policy_arn"].endswith("AmazonSSMManagedInstanceCore")


# ---------------------------------------------------------------------------------------
# Data


def test_rds_is_multi_az_encrypted_protected_and_private(terraform: Terraform) -> None:
    instances = terraform.resources("aws_db_instance")
    assert len(instances) == 1
    db = instances[0].body
    assert db["engine"] == "postgres"
    assert db["multi_az"] == "${var.db_multi_az}"
    assert _tfvars("prod")["db_multi_az"] is True and _tfvars("dev")["db_multi_az"] is False
    assert is_true(db["storage_encrypted"])
    assert "kms_key_id" in db
    assert is_true(db["deletion_protection"])
    assert is_false(db["publicly_accessible"])
    assert is_false(db["skip_final_snapshot"])
    assert "db_subnet_group_name" in db
    params = terraform.resource("aws_db_parameter_group", "this", module_dir("data")).body
    forced = {p["name"]: p["value"] for p in params["parameter"]}
    assert forced["rds.force_ssl"] == "1"


def test_redis_is_encrypted_in_transit_and_at_rest(terraform: Terraform) -> None:
    redis = terraform.resource("aws_elasticache_replication_group", "this", module_dir("data"))
    assert is_true(redis.body["at_rest_encryption_enabled"])
    assert is_true(redis.body["transit_encryption_enabled"])
    assert "kms_key_id" in redis.body and "auth_token" in redis.body
    assert redis.body["num_cache_clusters"] == "${var.cache_nodes}"
    assert redis.body["automatic_failover_enabled"] == "${var.cache_nodes > 1}"
    assert redis.body["multi_az_enabled"] == "${var.cache_nodes > 1}"
    assert _tfvars("prod")["cache_nodes"] == 2 and _tfvars("dev")["cache_nodes"] == 1


def _bucket_ref(block: Block) -> str:
    match = re.search(r"aws_s3_bucket\.(\w+)\.(id|bucket)", refs(block.body["bucket"]))
    assert match, block.where
    return match.group(1)


def test_every_s3_bucket_is_private_encrypted_and_versioned(terraform: Terraform) -> None:
    buckets = terraform.resources("aws_s3_bucket")
    assert {b.name for b in buckets} >= {"images", "logs", "state"}
    for bucket in buckets:
        under = bucket.path.parent

        def companions(type_: str, bucket: Block = bucket, under: Path = under) -> list[Block]:
            return [r for r in terraform.resources(type_, under) if _bucket_ref(r) == bucket.name]

        (pab,) = companions("aws_s3_bucket_public_access_block")
        for flag in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert is_true(pab.body[flag]), f"{bucket.where}: {flag}"
        (sse,) = companions("aws_s3_bucket_server_side_encryption_configuration")
        algorithm = one(sse.body, "rule", "apply_server_side_encryption_by_default")
        assert algorithm["sse_algorithm"] in ("aws:kms", "AES256"), bucket.where
        (versioning,) = companions("aws_s3_bucket_versioning")
        assert one(versioning.body, "versioning_configuration")["status"] == "Enabled"
        (policy,) = companions("aws_s3_bucket_policy")
        assert "aws_iam_policy_document" in refs(policy.body["policy"])
    images_sse = one(
        terraform.resource(
            "aws_s3_bucket_server_side_encryption_configuration", "images", module_dir("data")
        ).body,
        "rule",
        "apply_server_side_encryption_by_default",
    )
    assert images_sse["sse_algorithm"] == "aws:kms", "images are encrypted with the CMK"


def test_buckets_deny_plain_http(terraform: Terraform) -> None:
    for doc in terraform.data("aws_iam_policy_document"):
        if doc.name.endswith("bucket") or doc.name == "state_bucket":
            sids = {s.get("sid") for s in doc.body.get("statement", [])}
            assert "DenyInsecureTransport" in sids, doc.where


# ---------------------------------------------------------------------------------------
# Queue


def test_sqs_queue_has_a_redrive_policy_to_the_dlq(terraform: Terraform) -> None:
    queue = module_dir("queue")
    jobs = terraform.resource("aws_sqs_queue", "jobs", queue)
    redrive = refs(jobs.body["redrive_policy"])
    assert "deadLetterTargetArn" in redrive and "aws_sqs_queue.dlq.arn" in redrive
    assert "maxReceiveCount" in redrive
    for q in terraform.resources("aws_sqs_queue"):
        assert "kms_master_key_id" in q.body, q.where
        if q.name != "dlq":
            assert "redrive_policy" in q.body, f"{q.where} has no dead-letter queue"
    allow = terraform.resource("aws_sqs_queue_redrive_allow_policy", "dlq", queue)
    assert "aws_sqs_queue.jobs.arn" in refs(allow.body["redrive_allow_policy"])


def test_ses_identity_exists(terraform: Terraform) -> None:
    assert terraform.resources("aws_sesv2_email_identity", module_dir("queue"))


# ---------------------------------------------------------------------------------------
# Identity


def test_cognito_pool_has_admins_group_and_both_triggers(terraform: Terraform) -> None:
    identity = module_dir("identity")
    pool = terraform.resource("aws_cognito_user_pool", "this", identity)
    triggers = one(pool.body, "lambda_config")
    assert 'aws_lambda_function.trigger["pre-sign-up"].arn' in refs(triggers["pre_sign_up"])
    assert 'aws_lambda_function.trigger["post-confirmation"].arn' in refs(
        triggers["post_confirmation"]
    )
    group = terraform.resource("aws_cognito_user_group", "admins", identity)
    assert group.body["name"] == "admins"

    locals_ = next(
        loc["triggers"]
        for path, doc in terraform.files.items()
        if path.parent == identity
        for loc in doc.get("locals", [])
        if "triggers" in loc
    )
    assert locals_["pre-sign-up"]["handler"] == ("entrypoints.lambdas.cognito_triggers.pre_sign_up")
    assert locals_["post-confirmation"]["handler"] == (
        "entrypoints.lambdas.cognito_triggers.post_confirmation"
    )
    function = terraform.resource("aws_lambda_function", "trigger", identity)
    assert function.body["filename"] == "${var.lambda_zip_path}"
    permission = terraform.resource("aws_lambda_permission", "cognito", identity)
    assert permission.body["principal"] == "cognito-idp.amazonaws.com"


# ---------------------------------------------------------------------------------------
# Edge


def _listener_rules(terraform: Terraform) -> list[Block]:
    return sorted(
        terraform.resources("aws_lb_listener_rule", module_dir("edge")),
        key=lambda r: int(r.body["priority"]),
    )


def test_alb_path_rules_in_priority_order(terraform: Terraform) -> None:
    rules = _listener_rules(terraform)
    routing = []
    for rule in rules:
        assert rule.body["listener_arn"] == "${aws_lb_listener.https.arn}", rule.where
        paths = [v for p in nested(rule.body, "condition", "path_pattern") for v in p["values"]]
        action = one(rule.body, "action")
        assert action["type"] == "forward"
        target = re.search(r'aws_lb_target_group\.this\["([\w-]+)"\]', action["target_group_arn"])
        assert target, rule.where
        routing.append((paths, target.group(1)))
    assert routing == [
        (["/v1/api/admin*"], "admin-api"),
        (["/v1/api*", "/.well-known/*"], "mobile-api"),
        (["/v1/realtime*"], "gateway"),
        (["/*"], "console"),  # the default route, last: whatever the others leave
    ]
    priorities = [int(r.body["priority"]) for r in rules]
    assert len(set(priorities)) == len(priorities)


def test_alb_rules_require_the_cloudfront_origin_header(terraform: Terraform) -> None:
    for rule in _listener_rules(terraform):
        (header,) = nested(rule.body, "condition", "http_header")
        assert header["values"] == ["${random_password.origin_header.result}"], rule.where
    distribution = terraform.resource("aws_cloudfront_distribution", "this", module_dir("edge"))
    custom = one(distribution.body, "origin", "custom_header")
    assert custom["value"] == "${random_password.origin_header.result}"


def test_http_listener_redirects_to_https(terraform: Terraform) -> None:
    edge = module_dir("edge")
    http = terraform.resource("aws_lb_listener", "http", edge)
    assert int(http.body["port"]) == 80 and http.body["protocol"] == "HTTP"
    action = one(http.body, "default_action")
    assert action["type"] == "redirect"
    redirect = one(action, "redirect")
    assert redirect["protocol"] == "HTTPS" and str(redirect["port"]) == "443"
    assert redirect["status_code"] == "HTTP_301"
    https = terraform.resource("aws_lb_listener", "https", edge)
    assert int(https.body["port"]) == 443 and https.body["protocol"] == "HTTPS"
    assert https.body["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")
    alb = terraform.resource("aws_lb", "this", edge)
    assert is_true(alb.body["drop_invalid_header_fields"])
    assert is_true(alb.body["enable_deletion_protection"])


def test_target_groups_probe_readiness(terraform: Terraform) -> None:
    groups = terraform.resource("aws_lb_target_group", "this", module_dir("edge"))
    assert int(groups.body["port"]) == 8000
    assert one(groups.body, "health_check")["path"] == "/readyz"


def test_cloudfront_fronts_the_alb_with_waf_and_tls(terraform: Terraform) -> None:
    distribution = terraform.resource("aws_cloudfront_distribution", "this", module_dir("edge"))
    assert distribution.body["web_acl_id"] == "${aws_wafv2_web_acl.this.arn}"
    origin = one(distribution.body, "origin", "custom_origin_config")
    assert origin["origin_protocol_policy"] == "https-only"
    viewer = one(distribution.body, "viewer_certificate")
    assert viewer["minimum_protocol_version"].startswith("TLSv1.2")
    behaviour = one(distribution.body, "default_cache_behavior")
    assert behaviour["viewer_protocol_policy"] in ("redirect-to-https", "https-only")


def _statements(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in nested(body, "statement")]


def test_waf_rules(terraform: Terraform) -> None:
    edge = module_dir("edge")
    acl = terraform.resource("aws_wafv2_web_acl", "this", edge)
    assert acl.body["scope"] == "CLOUDFRONT"
    rules = acl.body["rule"]
    priorities = [int(r["priority"]) for r in rules]
    assert len(set(priorities)) == len(priorities)

    rate = [r for r in rules if list(nested(r, "statement", "rate_based_statement"))]
    assert len(rate) == 1
    assert "block" in one(rate[0], "action")
    assert one(rate[0], "statement", "rate_based_statement")["aggregate_key_type"] == "IP"

    managed = {
        m["name"]
        for r in rules
        for m in nested(r, "statement", "managed_rule_group_statement")
        if m["vendor_name"] == "AWS"
    }
    assert managed >= {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    }
    for r in rules:
        if list(nested(r, "statement", "managed_rule_group_statement")):
            assert "none" in one(r, "override_action"), f"{r['name']} must block, not count"

    # Admin paths: blocked unless the viewer IP is in the admin IP set.
    (admin,) = [r for r in rules if "admin" in r["name"]]
    assert "block" in one(admin, "action")
    text = refs(admin["statement"])
    assert "/v1/api/admin" in text and "STARTS_WITH" in text
    assert "not_statement" in text and "${aws_wafv2_ip_set.admin.arn}" in text
    ip_set = terraform.resource("aws_wafv2_ip_set", "admin", edge)
    assert ip_set.body["addresses"] == "${var.admin_allowed_cidrs}"
    assert ip_set.body["scope"] == "CLOUDFRONT"


# ---------------------------------------------------------------------------------------
# Compute


def _compute_locals(terraform: Terraform) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path, doc in terraform.files.items():
        if path.parent == module_dir("compute"):
            for loc in doc.get("locals", []):
                merged.update(loc)
    return merged


def test_every_ecs_service_has_its_own_task_role(terraform: Terraform) -> None:
    compute = module_dir("compute")
    tasks = _compute_locals(terraform)["tasks"]
    assert set(tasks) >= ECS_SERVICES | {"migrate", "keys-rotate", "guests-purge"}

    service = terraform.resource("aws_ecs_service", "this", compute)
    assert service.body["for_each"] == "${var.services}"
    assert service.body["task_definition"] == "${aws_ecs_task_definition.this[each.key].arn}"
    task_definition = terraform.resource("aws_ecs_task_definition", "this", compute)
    assert task_definition.body["for_each"] == "${local.tasks}"
    assert task_definition.body["task_role_arn"] == "${aws_iam_role.task[each.key].arn}"
    assert task_definition.body["execution_role_arn"] == ("${aws_iam_role.execution[each.key].arn}")
    for role in ("task", "execution"):
        block = terraform.resource("aws_iam_role", role, compute)
        assert block.body["for_each"] == "${local.tasks}"
        assert "each.key" in block.body["name"], "one role per task family, named after it"
    services_var = next(
        v for v in terraform.blocks("variable", under=compute) if v.name == "services"
    )
    assert all(name in refs(services_var.body["validation"]) for name in ECS_SERVICES)

    # Each service's task role carries only its own policy document; the gateway's only
    # lets it read its own target's health (it drains when the target turns `draining`).
    policies = _compute_locals(terraform)["task_policies"]
    for name, document in policies.items():
        assert name in tasks
        assert document == f"${{data.aws_iam_policy_document.task_{name.replace('-', '_')}.json}}"
    (gateway,) = [d for d in terraform.data("aws_iam_policy_document")
                  if d.name == "task_gateway"]
    assert [_as_list(s.get("actions", [])) for s in _policy_statements(gateway)] == [
        ["elasticloadbalancing:DescribeTargetHealth"]], "the gateway reads its target only"


def test_ecs_services_are_private_health_checked_and_autoscaled(terraform: Terraform) -> None:
    compute = module_dir("compute")
    service = terraform.resource("aws_ecs_service", "this", compute)
    network = one(service.body, "network_configuration")
    assert is_false(network["assign_public_ip"])
    assert network["subnets"] == "${var.app_subnet_ids}"
    assert is_true(one(service.body, "deployment_circuit_breaker")["rollback"])
    lb = one(service.body, "dynamic", "load_balancer")
    assert int(one(lb, "content")["container_port"]) == 8000

    settings = _compute_locals(terraform)["http_container_settings"]
    assert "/healthz" in refs(settings["healthCheck"]["command"])

    target = terraform.resource("aws_appautoscaling_target", "service", compute)
    assert target.body["for_each"] == "${var.services}"
    cpu = terraform.resource("aws_appautoscaling_policy", "cpu", compute)
    assert cpu.body["for_each"] == "${var.services}"
    assert terraform.resource("aws_appautoscaling_policy", "worker_backlog", compute)

    base = _compute_locals(terraform)["container_base"]
    assert "readonlyRootFilesystem" in refs(base) and "10001:10001" in refs(base)


def test_secrets_are_passed_by_reference(terraform: Terraform) -> None:
    from workloads import containers, estate

    for env in ENVIRONMENTS:
        tasks = containers(estate(env))
        for family, container in tasks.items():
            for env_name, value in container.secrets.items():
                assert env_name.isupper(), (family, env_name)
                assert str(value).startswith("<aws_secretsmanager_secret."), (family, value)
        assert set(tasks["worker"].secrets) == {"DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY"}
        assert "OPENAI_API_KEY" not in tasks["mobile-api"].secrets
        # Wherever the key ring is in Secrets Manager, one refresh-token key for all nodes.
        for family, container in tasks.items():
            if container.environment.get("ATELIER_KEYSTORE") == "secretsmanager":
                assert container.secrets["ATELIER_REFRESH_TOKEN_SECRET"] == (
                    '<aws_secretsmanager_secret.connection["refresh-token-secret"].arn>'), family
    # No secret value in plain environment variables.
    base = _compute_locals(terraform)["common_environment"]
    assert not {"DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY"} & set(base)


def test_secret_arns_are_published_in_parameter_store(terraform: Terraform) -> None:
    parameters = [
        p
        for p in terraform.resources("aws_ssm_parameter")
        if "secrets/" in refs(p.body.get("name"))
    ]
    assert len(parameters) == 2  # security (openai, signing keys) + data (db, redis urls)
    for p in parameters:
        assert p.body["name"].startswith("/atelier/${var.environment}/secrets/")
        assert p.body["value"] == "${each.value.arn}"
    for secret in terraform.resources("aws_secretsmanager_secret"):
        assert secret.body["kms_key_id"] == "${var.kms_key_arn}" or "aws_kms_key" in refs(
            secret.body["kms_key_id"]
        )


def test_scheduled_jobs(terraform: Terraform) -> None:
    compute = module_dir("compute")
    schedules = _compute_locals(terraform)["schedules"]
    assert set(schedules) == {"keys-rotate", "guests-purge", "maintenance-run"}
    tasks = _compute_locals(terraform)["tasks"]
    assert tasks["keys-rotate"]["command"] == ["keys", "rotate"]
    assert tasks["guests-purge"]["command"] == ["guests", "purge"]
    assert tasks["maintenance-run"]["command"] == ["maintenance", "run"]
    assert tasks["migrate"]["command"] == ["db", "upgrade"]
    for env in ENVIRONMENTS:
        call = next(
            m
            for m in terraform.blocks("module", under=ENVIRONMENTS_DIR / env)
            if m.name == "compute"
        )
        assert call.body["keys_rotate_schedule"] == "rate(1 hour)"
        assert re.fullmatch(r"cron\(\d+ \d+ \* \* \? \*\)", call.body["guests_purge_schedule"])
        assert re.fullmatch(r"cron\(\d+ \d+ \* \* \? \*\)", call.body["maintenance_run_schedule"])
    target = terraform.resource("aws_cloudwatch_event_target", "schedule", compute)
    ecs = one(target.body, "ecs_target")
    assert ecs["launch_type"] == "FARGATE"
    assert is_false(one(ecs, "network_configuration")["assign_public_ip"])


def test_ecr_repository(terraform: Terraform) -> None:
    repo = terraform.resource("aws_ecr_repository", "this", module_dir("compute"))
    assert repo.body["image_tag_mutability"] == "IMMUTABLE"
    assert is_true(one(repo.body, "image_scanning_configuration")["scan_on_push"])


# ---------------------------------------------------------------------------------------
# Security and observability


def test_audit_and_threat_detection(terraform: Terraform) -> None:
    security = module_dir("security")
    trail = terraform.resource("aws_cloudtrail", "main", security)
    assert is_true(trail.body["is_multi_region_trail"])
    assert is_true(trail.body["enable_log_file_validation"])
    assert "kms_key_id" in trail.body
    assert terraform.resource("aws_guardduty_detector", "main", security)
    key = terraform.resource("aws_kms_key", "main", security)
    assert is_true(key.body["enable_key_rotation"])


def test_cloudwatch_alarms(terraform: Terraform) -> None:
    alarms = {a.name: a.body for a in terraform.resources("aws_cloudwatch_metric_alarm")}
    assert {"alb_5xx", "dlq_depth", "rds_cpu", "unhealthy_targets", "queue_age"} <= set(alarms)
    assert alarms["dlq_depth"]["metric_name"] == "ApproximateNumberOfMessagesVisible"
    assert alarms["rds_cpu"]["metric_name"] == "CPUUtilization"
    for name, alarm in alarms.items():
        # The WAF alarm lives in us-east-1 with its metrics, so it notifies a topic there.
        expected = "${local.actions}" if name != "waf_blocked" else [
            "${aws_sns_topic.edge_alarms.arn}"]
        assert alarm["alarm_actions"] == expected, name
    for topic in terraform.resources("aws_sns_topic", module_dir("observability")):
        assert "kms_master_key_id" in topic.body, topic.where


def test_log_groups_are_retained_and_encrypted(terraform: Terraform) -> None:
    for group in terraform.resources("aws_cloudwatch_log_group"):
        assert "retention_in_days" in group.body, group.where
        if group.name != "waf":  # us-east-1: the regional CMK cannot encrypt it
            assert "kms_key_id" in group.body, group.where


# ---------------------------------------------------------------------------------------
# IAM


def _policy_statements(doc: Block) -> list[dict[str, Any]]:
    statements = list(doc.body.get("statement", []))
    for dynamic in doc.body.get("dynamic", []):
        for label, block in dynamic.items():
            if label == "statement":
                statements.extend(block.get("content", []))
    return statements


def _as_list(value: Any) -> list[Any]:
    """A literal list stays a list; an expression ("${[for ...]}") is one opaque item."""
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_and_no_unscoped_resources(terraform: Terraform) -> None:
    documents = terraform.data("aws_iam_policy_document")
    assert len(documents) > 20
    problems = []
    for doc in documents:
        for statement in _policy_statements(doc):
            if statement.get("effect", "Allow") == "Deny":
                continue
            actions = _as_list(statement.get("actions", []))
            resources = _as_list(statement.get("resources", []))
            if "*" in actions or "not_actions" in statement or "not_resources" in statement:
                problems.append(f"{doc.where} {statement.get('sid')}: wildcard action")
            if "*" in resources:
                unlisted = [a for a in actions if a not in ALLOWED_ON_ANY_RESOURCE]
                if unlisted:
                    problems.append(f"{doc.where} {statement.get('sid')}: {unlisted} on '*'")
    assert not problems, "\n".join(problems)


def test_every_iam_policy_comes_from_a_policy_document(terraform: Terraform) -> None:
    attributes = {
        "aws_iam_role": "assume_role_policy",
        "aws_iam_role_policy": "policy",
        "aws_iam_policy": "policy",
        "aws_s3_bucket_policy": "policy",
        "aws_sqs_queue_policy": "policy",
        "aws_kms_key": "policy",
    }
    for type_, attribute in attributes.items():
        for block in terraform.resources(type_):
            value = refs(block.body.get(attribute, ""))
            ok = "data.aws_iam_policy_document." in value or (
                type_ == "aws_iam_role_policy" and value == "${each.value}"
            )
            assert ok, f"{block.where}: {attribute} must come from an aws_iam_policy_document"


def test_policy_documents_never_grant_star_principals(terraform: Terraform) -> None:
    for doc in terraform.data("aws_iam_policy_document"):
        for statement in _policy_statements(doc):
            for principal in statement.get("principals", []):
                if "*" in principal.get("identifiers", []):
                    assert statement.get("effect") == "Deny", f"{doc.where}: Allow to '*'"


def test_github_deploy_role_trusts_one_environment_only(terraform: Terraform) -> None:
    (assume,) = [
        d
        for d in terraform.data("aws_iam_policy_document", module_dir("cicd"))
        if d.name == "assume"
    ]
    (statement,) = _policy_statements(assume)
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {c["variable"]: c for c in statement["condition"]}
    sub = conditions["token.actions.githubusercontent.com:sub"]
    assert sub["test"] == "StringEquals"
    assert sub["values"] == ["repo:${var.github_repository}:environment:${var.environment}"]
    assert conditions["token.actions.githubusercontent.com:aud"]["values"] == ["sts.amazonaws.com"]


def test_allow_list_reasons_are_written_down() -> None:
    for action, reason in ALLOWED_ON_ANY_RESOURCE.items():
        assert ":" in action and len(reason) > 15, action


def test_terraform_working_files_stay_out_of_git_and_lock_files_in() -> None:
    """State and saved plans hold secrets; provider caches are large and per machine. The
    provider lock files are committed (docs/deploy.md)."""
    env = ENVIRONMENTS_DIR / "prod"
    ignored = [
        env / ".terraform" / "providers" / "x",
        env / "terraform.tfstate",
        env / "terraform.tfstate.backup",
        env / "tfplan",
        env / "release.tfplan",
        TERRAFORM_DIR / "bootstrap" / "terraform.tfstate",
    ]
    kept = [env / ".terraform.lock.hcl", env / "terraform.tfvars", env / "backend.hcl"]
    completed = subprocess.run(
        ["git", "check-ignore", "--no-index", *map(str, ignored + kept)],
        cwd=TERRAFORM_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    reported = {Path(line) for line in completed.stdout.splitlines()}
    assert reported == set(ignored), f"ignored: {reported}"
