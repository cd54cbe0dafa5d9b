# Alarms on the application's own metrics (namespace var.metrics_namespace, written by the
# ADOT collector beside each task; dimensions as the compute module declares them, always
# with `environment`).

locals {
  app_dimensions = { environment = var.environment }
}

# One alarm per failing refresh outcome, so the page says which: reuse (a stolen token
# replayed), expiry and revocation surges, malformed tokens.
resource "aws_cloudwatch_metric_alarm" "refresh_failures" {
  for_each            = toset(var.refresh_failure_outcomes)
  alarm_name          = "${var.name}-refresh-${each.key}"
  alarm_description   = "Refreshes failing as ${each.key} above ${var.refresh_failure_threshold} in 5 minutes: docs/operations.md (stolen refresh token)"
  namespace           = var.metrics_namespace
  metric_name         = "atelier_refresh_total"
  dimensions          = merge(local.app_dimensions, { outcome = each.key })
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.refresh_failure_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "handshake_refusals" {
  alarm_name          = "${var.name}-gateway-handshake-refusals"
  alarm_description   = "The gateway refuses WebSocket handshakes (dashboard: refusals by reason): expired tokens after a key problem, or an attack"
  namespace           = var.metrics_namespace
  metric_name         = "atelier_gateway_handshakes_total"
  dimensions          = merge(local.app_dimensions, { outcome = "refused" })
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.handshake_refusal_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "outbox_lag" {
  alarm_name          = "${var.name}-outbox-lag"
  alarm_description   = "Outbox rows wait more than ${var.outbox_lag_threshold_seconds}s to be relayed to the queue: check the mobile API's relay and SQS"
  namespace           = var.metrics_namespace
  metric_name         = "atelier_outbox_lag_seconds"
  dimensions          = local.app_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.outbox_lag_threshold_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}
