# IAM: per task family, an execution role (ECS agent: image pull, logs, the task's own
# secrets) and a task role (the application). Nothing is shared between families.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

# ---------------------------------------------------------------------------------------
# Execution roles

resource "aws_iam_role" "execution" {
  for_each           = local.tasks
  name               = "${var.name}-${each.key}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  for_each = local.tasks

  # GetAuthorizationToken is account-wide by design (no resource-level permission).
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "EcrPull"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [aws_ecr_repository.this.arn]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.task[each.key].arn}:*"]
  }

  statement {
    sid       = "OwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(each.value.secrets)
  }

  statement {
    sid       = "DecryptSecretsAndImage"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com", "ecr.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  for_each = local.tasks
  name     = "execution"
  role     = aws_iam_role.execution[each.key].id
  policy   = data.aws_iam_policy_document.execution[each.key].json
}

# ---------------------------------------------------------------------------------------
# Task roles: one per family. migrate and maintenance-run call no AWS API (their secrets
# arrive through the execution role), so their roles carry no application policy; the
# gateway only reads its own target's health; every role has the collector's telemetry
# policy (telemetry.tf).

resource "aws_iam_role" "task" {
  for_each           = local.tasks
  name               = "${var.name}-${each.key}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

locals {
  images_objects = "${var.images_bucket_arn}/images/*"
  # Data exports: zips the worker builds, the API links to (presigned) and deletes with
  # the account.
  export_objects = "${var.images_bucket_arn}/exports/*"

  task_policies = {
    "mobile-api"   = data.aws_iam_policy_document.task_mobile_api.json
    "admin-api"    = data.aws_iam_policy_document.task_admin_api.json
    "console"      = data.aws_iam_policy_document.task_console.json
    "gateway"      = data.aws_iam_policy_document.task_gateway.json
    "worker"       = data.aws_iam_policy_document.task_worker.json
    "keys-rotate"  = data.aws_iam_policy_document.task_keys_rotate.json
    "guests-purge" = data.aws_iam_policy_document.task_guests_purge.json
  }
}

resource "aws_iam_role_policy" "task" {
  for_each = local.task_policies
  name     = "application"
  role     = aws_iam_role.task[each.key].id
  policy   = each.value
}

# gateway: its own target's state in the gateway target group, so it drains when the
# target turns `draining`. DescribeTargetHealth has no resource-level permissions.
data "aws_iam_policy_document" "task_gateway" {
  statement {
    sid       = "WatchOwnTarget"
    actions   = ["elasticloadbalancing:DescribeTargetHealth"]
    resources = ["*"]
  }
}

# mobile-api: presigned image URLs, image deletion, job enqueue (outbox relay), token
# signing with the active key, Cognito-backed accounts.
data "aws_iam_policy_document" "task_mobile_api" {
  statement {
    sid       = "Images"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.images_objects]
  }

  statement {
    sid       = "Exports"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = [local.export_objects]
  }

  statement {
    sid       = "EnqueueJobs"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }

  # At start the queue adapter finds the dead-letter queue named by the redrive policy
  # (GetQueueUrl is authorized against the queue it names, here the DLQ).
  statement {
    sid       = "FindDeadLetterQueue"
    actions   = ["sqs:GetQueueUrl"]
    resources = [var.dlq_arn]
  }

  # On a fresh environment the first API task creates the first signing key and saves the
  # key ring (PutSecretValue on the empty secret Terraform made).
  statement {
    sid       = "SigningKeys"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"]
    resources = [var.signing_keys_secret_arn]
  }

  statement {
    sid = "CognitoAccounts"
    actions = [
      "cognito-idp:AdminGetUser",
      "cognito-idp:AdminInitiateAuth",
      "cognito-idp:AdminUpdateUserAttributes",
      "cognito-idp:AdminUserGlobalSignOut",
      "cognito-idp:AdminDeleteUser",
    ]
    resources = [var.user_pool_arn]
  }

  statement {
    sid       = "Kms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "sqs.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

# admin-api: user management in Cognito, image moderation, key list/rotate/revoke.
data "aws_iam_policy_document" "task_admin_api" {
  statement {
    sid       = "Images"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = [local.images_objects]
  }

  statement {
    sid       = "ManageSigningKeys"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"]
    resources = [var.signing_keys_secret_arn]
  }

  statement {
    sid = "CognitoAdministration"
    actions = [
      "cognito-idp:AdminGetUser",
      "cognito-idp:AdminDisableUser",
      "cognito-idp:AdminEnableUser",
      "cognito-idp:AdminUserGlobalSignOut",
      "cognito-idp:AdminListGroupsForUser",
      "cognito-idp:ListUsers",
      "cognito-idp:ListUsersInGroup",
    ]
    resources = [var.user_pool_arn]
  }

  statement {
    sid       = "Kms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

# console: what the admin API may do (user management in Cognito, image moderation, keys),
# plus the queue depths on its overview. Thumbnails are presigned GETs: the browser fetches
# them with this role's signature, hence s3:GetObject and the key's Decrypt through S3.
data "aws_iam_policy_document" "task_console" {
  statement {
    sid       = "Images"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = [local.images_objects]
  }

  statement {
    sid       = "ManageSigningKeys"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"]
    resources = [var.signing_keys_secret_arn]
  }

  statement {
    sid = "CognitoAdministration"
    actions = [
      "cognito-idp:AdminGetUser",
      "cognito-idp:AdminDisableUser",
      "cognito-idp:AdminEnableUser",
      "cognito-idp:AdminUserGlobalSignOut",
      "cognito-idp:AdminListGroupsForUser",
      "cognito-idp:ListUsers",
      "cognito-idp:ListUsersInGroup",
    ]
    resources = [var.user_pool_arn]
  }

  statement {
    sid       = "QueueDepths"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [var.queue_arn, var.dlq_arn]
  }

  statement {
    sid       = "FindDeadLetterQueue"
    actions   = ["sqs:GetQueueUrl"]
    resources = [var.dlq_arn]
  }

  statement {
    sid       = "Kms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

# worker: consume jobs, store images, mail users.
data "aws_iam_policy_document" "task_worker" {
  statement {
    sid = "ConsumeJobs"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [var.queue_arn]
  }

  # Dead letters: found by name at start, recorded as failed jobs, parked (visibility).
  statement {
    sid = "DeadLetters"
    actions = [
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [var.dlq_arn]
  }

  # `atelier jobs redrive`, run as a one-off task of this family (docs/operations.md):
  # dead letters go back onto the work queue.
  statement {
    sid       = "RedriveJobs"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue_arn]
  }

  statement {
    sid       = "StoreImages"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = [local.images_objects]
  }

  statement {
    sid       = "BuildExports"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = [local.export_objects]
  }

  statement {
    sid     = "SendMail"
    actions = ["ses:SendEmail", "ses:SendRawEmail"]
    resources = [
      var.ses_identity_arn,
      "arn:${local.partition}:ses:${local.region}:${local.account_id}:configuration-set/${var.ses_configuration_set_name}",
    ]

    condition {
      test     = "StringEquals"
      variable = "ses:FromAddress"
      values   = [var.ses_sender]
    }
  }

  statement {
    sid       = "Kms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "sqs.${local.region}.amazonaws.com"]
    }
  }
}

# keys-rotate: advances the key state machine in the key ring secret.
data "aws_iam_policy_document" "task_keys_rotate" {
  statement {
    sid       = "ManageSigningKeys"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"]
    resources = [var.signing_keys_secret_arn]
  }

  statement {
    sid       = "Kms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

# guests-purge: deletes inactive guests' images.
data "aws_iam_policy_document" "task_guests_purge" {
  statement {
    sid       = "DeleteImages"
    actions   = ["s3:DeleteObject"]
    resources = [local.images_objects]
  }

  statement {
    sid       = "ListImages"
    actions   = ["s3:ListBucket"]
    resources = [var.images_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["images/*"]
    }
  }
}
