"""checkov over deploy/terraform and the Dockerfile: zero failed checks.

checkov runs from its own virtual environment (.venv-checkov, created by scripts/test with
checkov==3.3.30) because it pins an old boto3 and ships its own `hcl2` module. One scan
per framework, shared by the tests of this module.

Skips live next to the resource they concern, as `#checkov:skip=CKV_...:reason` comments.
Every skip must carry a reason, and every skipped check id must be listed in
REVIEWED_SKIPS below, so a new kind of exception cannot slip in unreviewed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_support import REPO_ROOT, TERRAFORM_DIR

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
DOCKERFILE = REPO_ROOT / "deploy" / "docker" / "Dockerfile"

# Check id -> why it is acceptable to skip it where it is skipped (details inline).
REVIEWED_SKIPS: dict[str, str] = {
    "CKV_AWS_145": "ALB access-log bucket must use SSE-S3 (ALB log delivery rejects SSE-KMS)",
    "CKV_AWS_18": "the access-log bucket itself / the state bucket before any log bucket exists",
    "CKV_AWS_144": "cross-region replication is a cost/RPO decision, versioning is on",
    "CKV2_AWS_62": "no consumer of S3 event notifications",
    "CKV2_AWS_65": "CloudFront standard logging delivers through ACLs (log bucket only)",
    "CKV2_AWS_57": "secrets rotated outside Secrets Manager (OpenAI key, app-rotated key ring, "
    "Terraform-generated connection URLs)",
    "CKV2_AWS_34": "Parameter Store holds ARNs, names and an image tag: nothing confidential",
    "CKV_AWS_252": "CloudTrail consumed via CloudWatch Logs metric filters, not SNS",
    "CKV2_AWS_3": "GuardDuty enabled per account/region; Organizations admin out of scope",
    "CKV_AWS_109": "KMS key policy account-root statement ('*' = this key)",
    "CKV_AWS_111": "KMS key policy root statement; Lambda VPC ENI and X-Ray actions",
    "CKV_AWS_356": "KMS key policy root statement; Lambda VPC ENI and X-Ray actions",
    "CKV2_AWS_19": "the Elastic IPs belong to NAT gateways",
    "CKV2_AWS_5": "security groups attached in other modules (cross-module reference)",
    "CKV_AWS_260": "port 80 open to the CloudFront prefix list only, for the HTTPS redirect",
    "CKV_AWS_116": "Cognito triggers are synchronous: nothing to dead-letter",
    "CKV_AWS_272": "Lambda code signing needs an AWS Signer profile, not set up",
    "CKV2_AWS_28": "WAF is on CloudFront; the ALB accepts CloudFront only",
    "CKV_AWS_378": "ALB to targets is HTTP inside private subnets",
    "CKV_AWS_2": "port 80 listener only redirects to HTTPS",
    "CKV_AWS_103": "port 80 listener only redirects to HTTPS",
    "CKV_AWS_310": "single origin: nothing to fail over to",
    "CKV_AWS_305": "an API has no default root object",
    "CKV_AWS_374": "worldwide app: no geo restriction",
    "CKV2_AWS_47": "Log4j rules present; AnonymousIpList would block VPN users",
    "CKV_AWS_158": "WAF log group in us-east-1 cannot use the regional CMK",
    "CKV_AWS_157": "RDS Multi-AZ is a variable: on in prod, off in dev for cost (tfvars tested)",
    "CKV2_AWS_50": "Redis failover follows cache_nodes: 2 nodes in prod, 1 in dev (tfvars tested)",
}

SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def _run_checkov(*args: str) -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(
            f"checkov is missing at {CHECKOV}: run scripts/test, or `uv venv .venv-checkov "
            "--python 3.11 && uv pip install --python .venv-checkov/bin/python checkov==3.3.30`"
        )
    completed = subprocess.run(
        [str(CHECKOV), "--skip-download", "--compact", "-o", "json", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    # checkov exits 1 when a check fails; anything else non-zero is a crash.
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    assert len(reports) == 1, "one framework per scan"
    result = reports[0]
    assert "results" in result, f"checkov scanned nothing: {result}"
    return result


@pytest.fixture(scope="module")
def terraform_report() -> dict[str, Any]:
    return _run_checkov("--framework", "terraform", "-d", str(TERRAFORM_DIR))


@pytest.fixture(scope="module")
def dockerfile_report() -> dict[str, Any]:
    return _run_checkov("--framework", "dockerfile", "-f", str(DOCKERFILE))


def _failed(report: dict[str, Any]) -> list[str]:
    return sorted(
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    )


@pytest.mark.timeout(600)
def test_checkov_terraform_has_no_failed_check(terraform_report: dict[str, Any]) -> None:
    summary = terraform_report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 500, summary
    failed = _failed(terraform_report)
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)


@pytest.mark.timeout(600)
def test_checkov_terraform_skips_are_reviewed_and_reasoned(
    terraform_report: dict[str, Any],
) -> None:
    for check in terraform_report["results"]["skipped_checks"]:
        assert check["check_id"] in REVIEWED_SKIPS, f"unreviewed skip {check['check_id']}"
        result = check.get("check_result") or {}
        reason = (result.get("suppress_comment") or check.get("suppress_comment") or "").strip()
        assert len(reason) > 15, f"{check['check_id']} on {check['resource']} has no reason"


@pytest.mark.timeout(600)
def test_checkov_dockerfile_has_no_failed_check(dockerfile_report: dict[str, Any]) -> None:
    summary = dockerfile_report["summary"]
    assert summary["passed"] > 0 and summary["parsing_errors"] == 0
    failed = _failed(dockerfile_report)
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert not dockerfile_report["results"]["skipped_checks"]


def test_every_inline_skip_has_a_reason() -> None:
    files = [*TERRAFORM_DIR.rglob("*.tf"), DOCKERFILE]
    seen = 0
    for path in files:
        for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
            match = SKIP_COMMENT.search(line)
            if match:
                seen += 1
                check_id, reason = match.group(1), (match.group(2) or "").strip()
                where = f"{path.relative_to(REPO_ROOT)}:{number}"
                assert check_id in REVIEWED_SKIPS, f"{where}: {check_id} is not reviewed"
                assert len(reason) > 15, f"{where}: skip of {check_id} without a reason"
    assert seen > 0
    assert not (REPO_ROOT / "deploy" / ".checkov.yaml").exists() or seen
