# Scheduled ECS tasks (EventBridge): `atelier keys rotate` hourly (idempotent, moves keys
# only when the timing allows), `atelier guests purge` and `atelier maintenance run` daily. The targets name the
# task family without a revision, so they always run the latest one the pipeline rolled.

locals {
  schedules = {
    "keys-rotate"     = var.keys_rotate_schedule
    "guests-purge"    = var.guests_purge_schedule
    "maintenance-run" = var.maintenance_run_schedule
  }
}

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "events" {
  name               = "${var.name}-scheduled-tasks"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "RunScheduledTasks"
    actions   = ["ecs:RunTask"]
    resources = [for k in keys(local.schedules) : "${aws_ecs_task_definition.this[k].arn_without_revision}:*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.this.arn]
    }
  }

  # The targets set propagate_tags: ECS then tags the task it creates, which since the
  # tag-on-create authorization needs ecs:TagResource for RunTask (the AWS managed
  # AmazonEC2ContainerServiceEventsRole policy grants the same, on "*").
  statement {
    sid       = "TagScheduledTasks"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.this.name}/*"]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = flatten([for k in keys(local.schedules) : [aws_iam_role.execution[k].arn, aws_iam_role.task[k].arn]])

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "run-scheduled-tasks"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}

resource "aws_cloudwatch_event_rule" "schedule" {
  for_each            = local.schedules
  name                = "${var.name}-${each.key}"
  description         = "Runs `atelier ${replace(each.key, "-", " ")}`"
  schedule_expression = each.value
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each  = local.schedules
  rule      = aws_cloudwatch_event_rule.schedule[each.key].name
  target_id = each.key
  arn       = aws_ecs_cluster.this.arn
  role_arn  = aws_iam_role.events.arn

  ecs_target {
    task_definition_arn = aws_ecs_task_definition.this[each.key].arn_without_revision
    task_count          = 1
    launch_type         = "FARGATE"
    platform_version    = "LATEST"
    propagate_tags      = "TASK_DEFINITION"

    network_configuration {
      subnets          = var.app_subnet_ids
      security_groups  = [var.workload_security_group_ids["jobs"]]
      assign_public_ip = false
    }
  }

  retry_policy {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = 3600
  }
}
