# Failed scheduled jobs (keys rotate, guests purge, maintenance run), two ways:
#   - EventBridge could not start the task (FailedInvocations of the schedule's rule);
#   - the task started and stopped badly: its application container exited non-zero, or it
#     failed to start. ECS reports every task stop to EventBridge; a rule keeps the
#     scheduled families' failures, writes them to a log group, and a metric filter per
#     job counts them.

locals {
  scheduled_jobs = toset(keys(var.schedule_rule_names))
  jobs_namespace = "Atelier/${var.name}/Jobs"
}

resource "aws_cloudwatch_metric_alarm" "schedule_not_started" {
  for_each            = var.schedule_rule_names
  alarm_name          = "${var.name}-${each.key}-not-started"
  alarm_description   = "EventBridge could not start the scheduled ${each.key} task (RunTask refused: role, capacity, task definition)"
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  dimensions          = { RuleName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_log_group" "failed_jobs" {
  name              = "/aws/events/${var.name}/failed-jobs"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# EventBridge writes to a log group only if the group's resource policy lets it.
data "aws_iam_policy_document" "failed_jobs_log" {
  statement {
    sid       = "EventBridgeWritesFailedJobs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.failed_jobs.arn}:*"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "failed_jobs" {
  policy_name     = "${var.name}-failed-jobs"
  policy_document = data.aws_iam_policy_document.failed_jobs_log.json
}

# Array fields match element by element independently: "an application container exited
# non-zero" is read as "a container of the job's name is in the task and some container
# exited non-zero"; the collector beside it exits 0 when ECS stops it.
resource "aws_cloudwatch_event_rule" "failed_jobs" {
  name        = "${var.name}-failed-jobs"
  description = "Scheduled task families that stopped with an error"

  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn = [var.cluster_arn]
      lastStatus = ["STOPPED"]
      group      = [for job in local.scheduled_jobs : "family:${var.task_families[job]}"]
      "$or" = [
        { containers = { name = tolist(local.scheduled_jobs), exitCode = [{ "anything-but" = 0 }] } },
        { stopCode = ["TaskFailedToStart"] },
      ]
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "failed_jobs" {
  rule      = aws_cloudwatch_event_rule.failed_jobs.name
  target_id = "failed-jobs-log"
  arn       = aws_cloudwatch_log_group.failed_jobs.arn
}

resource "aws_cloudwatch_log_metric_filter" "failed_jobs" {
  for_each       = local.scheduled_jobs
  name           = "${var.name}-${each.key}-failed"
  log_group_name = aws_cloudwatch_log_group.failed_jobs.name
  pattern        = "{ $.detail.group = \"family:${var.task_families[each.key]}\" }"

  metric_transformation {
    name      = "${each.key}-failed"
    namespace = local.jobs_namespace
    value     = "1"
  }
}

resource "aws_cloudwatch_metric_alarm" "job_failed" {
  for_each            = local.scheduled_jobs
  alarm_name          = "${var.name}-${each.key}-failed"
  alarm_description   = "The scheduled ${each.key} task failed: its log group /ecs/${var.name}/${each.key} says why; docs/operations.md"
  namespace           = local.jobs_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.failed_jobs[each.key].metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  tags                = var.tags
}
