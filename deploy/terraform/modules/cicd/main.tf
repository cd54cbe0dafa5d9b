# What the one pipeline (.github/workflows/deploy.yml) needs to deploy this environment:
#   - a role it assumes through GitHub's OIDC provider, only from the GitHub environment
#     of the same name (no long-lived AWS key anywhere);
#   - /atelier/<env>/deploy/config in Parameter Store: every name and ARN it acts on, so
#     the workflow file holds no environment-specific value.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  ssm_prefix = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter/atelier/${var.environment}"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${var.environment}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-github-deploy"
  description          = "Assumed by GitHub Actions (environment ${var.environment}) to deploy ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 7200 # the deploy job waits up to 30 min on migrations and 45 on the roll
  tags                 = var.tags
}

data "aws_iam_policy_document" "deploy" {
  # Account-wide by design: no resource-level permission exists for these.
  statement {
    sid = "Unscoped"
    actions = [
      "ecr:GetAuthorizationToken",
      "ecs:DescribeTaskDefinition",
      "ecs:RegisterTaskDefinition",
    ]
    resources = ["*"]
  }

  statement {
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "ReadEnvironmentParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    resources = ["${local.ssm_prefix}/*"]
  }

  statement {
    sid       = "PublishImageTag"
    actions   = ["ssm:PutParameter"]
    resources = [var.image_tag_parameter_arn]
  }

  # Pre-flight: every secret referenced by the services exists and has a current value.
  # DescribeSecret returns metadata only; the pipeline never reads a secret's value.
  statement {
    sid       = "CheckSecrets"
    actions   = ["secretsmanager:DescribeSecret"]
    resources = var.secret_arns
  }

  statement {
    # One-off tasks: the migrations before every roll, and on a fresh environment the first
    # key rotation (so the first signing key exists before two API tasks race to create it).
    sid       = "RunOneOffTasks"
    actions   = ["ecs:RunTask"]
    resources = [for task in ["migrate", "keys-rotate"] : "${var.task_definition_arns[task]}:*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }

  statement {
    sid       = "WatchTasks"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = ["arn:${local.partition}:ecs:${var.region}:${local.account_id}:task/${var.cluster_name}/*"]
  }

  statement {
    sid       = "RollServices"
    actions   = ["ecs:UpdateService", "ecs:DescribeServices"]
    resources = [for s in values(var.service_names) : "arn:${local.partition}:ecs:${var.region}:${local.account_id}:service/${var.cluster_name}/${s}"]
  }

  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = var.pass_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "UpdateTriggers"
    actions   = ["lambda:UpdateFunctionCode", "lambda:GetFunction", "lambda:GetFunctionConfiguration"]
    resources = values(var.lambda_function_arns)
  }

  statement {
    sid       = "ReadOneOffTaskLogs"
    actions   = ["logs:GetLogEvents", "logs:FilterLogEvents"]
    resources = ["${var.migrate_log_group_arn}:*", "${replace(var.migrate_log_group_arn, "/migrate", "/keys-rotate")}:*"]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

resource "aws_ssm_parameter" "deploy_config" {
  #checkov:skip=CKV2_AWS_34:Resource names and ARNs only, no secret: the pipeline must read it before anything else.
  name        = "/atelier/${var.environment}/deploy/config"
  description = "Everything the deploy pipeline acts on in ${var.name} (JSON)"
  type        = "String"
  tier        = "Advanced"
  tags        = var.tags

  value = jsonencode({
    region                = var.region
    ecr_repository        = var.ecr_repository_url
    cluster               = var.cluster_name
    services              = var.service_names
    task_families         = var.task_families
    subnets               = var.app_subnet_ids
    jobs_security_group   = var.jobs_security_group_id
    lambda_functions      = var.lambda_function_names
    secret_arn_parameters = var.secret_arn_parameters
    image_tag_parameter   = var.image_tag_parameter
    migrate_log_group     = split(":log-group:", var.migrate_log_group_arn)[1]
  })
}
