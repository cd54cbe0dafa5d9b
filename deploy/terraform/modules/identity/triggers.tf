# Cognito triggers, one function (and one role) each, from the zip built by
# deploy/lambda/build.py. Terraform creates them; the pipeline updates their code
# (`aws lambda update-function-code`), hence ignore_changes on the package.

locals {
  triggers = {
    "pre-sign-up" = {
      handler     = "entrypoints.lambdas.cognito_triggers.pre_sign_up"
      description = "Cognito pre sign-up: validates the request"
      database    = false
    }
    "post-confirmation" = {
      handler     = "entrypoints.lambdas.cognito_triggers.post_confirmation"
      description = "Cognito post confirmation: upserts the user row in RDS by sub"
      database    = true
    }
  }
}

resource "aws_cloudwatch_log_group" "trigger" {
  for_each          = local.triggers
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "trigger" {
  for_each           = local.triggers
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "trigger" {
  #checkov:skip=CKV_AWS_111:Only the ENI management actions of a VPC function (as in AWSLambdaVPCAccessExecutionRole) and X-Ray writes use Resource "*"; neither supports resource-level permissions.
  #checkov:skip=CKV_AWS_356:Only the ENI management actions of a VPC function (as in AWSLambdaVPCAccessExecutionRole) and X-Ray writes use Resource "*"; neither supports resource-level permissions.
  for_each = local.triggers

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trigger[each.key].arn}:*"]
  }

  # ENI management for a function in a VPC; these EC2 actions support no resource scoping.
  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "XRay"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "DecryptEnvironment"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  dynamic "statement" {
    for_each = each.value.database ? [1] : []

    content {
      sid       = "ReadDatabaseUrl"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [var.database_url_secret_arn]
    }
  }
}

resource "aws_iam_role_policy" "trigger" {
  for_each = local.triggers
  name     = "trigger"
  role     = aws_iam_role.trigger[each.key].id
  policy   = data.aws_iam_policy_document.trigger[each.key].json
}

resource "aws_lambda_function" "trigger" {
  #checkov:skip=CKV_AWS_116:Cognito invokes triggers synchronously and fails the sign-up on error; there is no asynchronous event to dead-letter.
  #checkov:skip=CKV_AWS_272:The zip is built from the locked sources by the pipeline (deploy/lambda/build.py) and deployed by the same OIDC-scoped role; code signing would need an AWS Signer profile, not set up here.
  for_each      = local.triggers
  function_name = "${var.name}-${each.key}"
  description   = each.value.description
  role          = aws_iam_role.trigger[each.key].arn
  handler       = each.value.handler
  runtime       = var.lambda_runtime
  architectures = [var.lambda_architecture]
  timeout       = 5
  memory_size   = 512

  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)

  reserved_concurrent_executions = var.lambda_reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  vpc_config {
    subnet_ids         = var.app_subnet_ids
    security_group_ids = [var.lambda_security_group_id]
  }

  tracing_config {
    mode = "Active"
  }

  environment {
    variables = merge(
      { AWS_LAMBDA_LOG_FORMAT = "JSON" },
      each.value.database ? { DATABASE_URL = "secretsmanager:${var.database_url_secret_arn}" } : {},
    )
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.trigger[each.key].name
  }

  tags = var.tags

  lifecycle {
    ignore_changes = [filename, source_code_hash]
  }

  depends_on = [aws_iam_role_policy.trigger]
}

resource "aws_lambda_permission" "cognito" {
  for_each      = local.triggers
  statement_id  = "AllowCognito"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.trigger[each.key].function_name
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = aws_cognito_user_pool.this.arn
}
