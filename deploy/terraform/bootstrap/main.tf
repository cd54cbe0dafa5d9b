# Once per AWS account, before any environment (docs/deploy.md, step 2):
#   - the S3 bucket holding every environment's Terraform state (KMS, versioned,
#     TLS-only, private; locking with S3 lock files, Terraform >= 1.10);
#   - the GitHub Actions OIDC provider the deploy roles trust;
#   - the read-only role the pull-request workflow (ci.yml) plans with.
# Its own state is local (terraform.tfstate in this directory, kept by the operator) or
# migrated into the bucket after the first apply.

terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "atelier"
      ManagedBy = "terraform"
      Stack     = "bootstrap"
    }
  }
}

variable "region" {
  description = "Region of the state bucket."
  type        = string
}

variable "state_bucket_name" {
  description = "Globally unique name of the Terraform state bucket, e.g. atelier-tfstate-<account id>."
  type        = string
}

variable "create_github_oidc_provider" {
  description = "Create the token.actions.githubusercontent.com OIDC provider (false if the account already has one)."
  type        = bool
  default     = true
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose pull requests may plan this account's environment."
  type        = string
}

variable "plan_environment" {
  description = "GitHub environment the pull-request plan job runs in for this account, e.g. dev-plan."
  type        = string
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "state" {
  description             = "Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/atelier-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

data "aws_iam_policy_document" "state_key" {
  #checkov:skip=CKV_AWS_109:Key policy: Resource "*" means this key only; the account-root statement is the AWS default that delegates use of the key to IAM policies.
  #checkov:skip=CKV_AWS_111:Key policy: Resource "*" means this key only (AWS default account-root statement).
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" means this key only (AWS default account-root statement).
  # In a key policy, Resource "*" means "this key"; IAM policies decide who uses it.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_144:State is versioned in-region; cross-region replication is an account-level decision.
  #checkov:skip=CKV_AWS_18:Access to state is audited by CloudTrail (management events); S3 access logs would need a second bucket before any environment exists.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of the state bucket.
  bucket = var.state_bucket_name

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "old-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 90
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

data "aws_iam_policy_document" "state_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # A backend configured with `encrypt = true` but no kms_key_id asks for SSE-S3 on every
  # write, overriding the default above: refuse it, so the state is always under the key.
  statement {
    sid       = "DenySseS3Writes"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["AES256"]
    }
  }
}

resource "aws_iam_openid_connect_provider" "github" {
  count           = var.create_github_oidc_provider ? 1 : 0
  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1
  url   = "https://token.actions.githubusercontent.com"
}

locals {
  github_oidc_provider_arn = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

# `terraform plan` on pull requests: reads everything (ReadOnlyAccess), decrypts the state
# and the Terraform-written secrets it refreshes, writes nothing (plan runs -lock=false).
data "aws_iam_policy_document" "plan_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${var.plan_environment}"]
    }
  }
}

resource "aws_iam_role" "plan" {
  name                 = "atelier-terraform-plan"
  description          = "Assumed by pull-request CI (environment ${var.plan_environment}) to run terraform plan"
  assume_role_policy   = data.aws_iam_policy_document.plan_assume.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "ReadState"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.state.arn]
  }

  # Refreshing aws_secretsmanager_secret_version reads the value it wrote.
  statement {
    sid       = "RefreshTerraformSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:*:${data.aws_caller_identity.current.account_id}:secret:atelier-*"]
  }

  statement {
    sid       = "DecryptWithTheEnvironmentKeys"
    actions   = ["kms:Decrypt"]
    resources = ["arn:aws:kms:*:${data.aws_caller_identity.current.account_id}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = ["atelier"]
    }
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "plan"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

output "state_bucket" {
  description = "Name of the Terraform state bucket (backend.hcl: bucket)."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_alias_arn" {
  description = "ARN of the state key's alias (backend.hcl: kms_key_id)."
  value       = aws_kms_alias.state.arn
}

output "github_oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider (terraform.tfvars: github_oidc_provider_arn)."
  value       = local.github_oidc_provider_arn
}

output "plan_role_arn" {
  description = "Role of the pull-request plan job (GitHub environment <env>-plan: variable AWS_PLAN_ROLE_ARN)."
  value       = aws_iam_role.plan.arn
}
