# One dashboard per environment, from the application's metrics (namespace
# var.metrics_namespace) and the alarms' states. Graphs with a label per value (outcome,
# reason, queue, entrypoint, status) use SEARCH, so a new value appears without an edit.

locals {
  env_filter = "environment=\"${var.environment}\""

  # SEARCH over one metric, one series per value of the dimensions after `environment`.
  search = {
    for key, spec in {
      requests       = { metric = "atelier_http_request_duration_seconds", dimensions = "entrypoint", stat = "SampleCount" }
      latency        = { metric = "atelier_http_request_duration_seconds", dimensions = "entrypoint", stat = "Average" }
      statuses       = { metric = "atelier_http_request_duration_seconds", dimensions = "entrypoint,status", stat = "SampleCount" }
      refreshes      = { metric = "atelier_refresh_total", dimensions = "outcome", stat = "Sum" }
      handshakes     = { metric = "atelier_gateway_handshakes_total", dimensions = "outcome,reason", stat = "Sum" }
      jwks_fetches   = { metric = "atelier_jwks_fetches_total", dimensions = "outcome", stat = "Sum" }
      jobs           = { metric = "atelier_jobs_total", dimensions = "outcome", stat = "Sum" }
      queue_depth    = { metric = "atelier_queue_depth", dimensions = "queue", stat = "Maximum" }
      retention_runs = { metric = "atelier_maintenance_runs_total", dimensions = "outcome", stat = "Sum" }
    } : key => "SEARCH('{${var.metrics_namespace},environment,${spec.dimensions}} MetricName=\"${spec.metric}\" ${local.env_filter}', '${spec.stat}', 300)"
  }

  metric_widgets = [
    { title = "Requests by entrypoint (5 min)", metrics = [[{ expression = local.search.requests, id = "requests" }]] },
    { title = "Mean request duration by entrypoint (s)", metrics = [[{ expression = local.search.latency, id = "latency" }]] },
    { title = "Responses by entrypoint and status", metrics = [[{ expression = local.search.statuses, id = "statuses" }]] },
    { title = "Refreshes by outcome", metrics = [[{ expression = local.search.refreshes, id = "refreshes" }]] },
    { title = "Gateway handshakes by outcome and reason", metrics = [[{ expression = local.search.handshakes, id = "handshakes" }]] },
    {
      title = "Gateway sockets and deliveries"
      metrics = [
        [var.metrics_namespace, "atelier_gateway_sockets_open", "environment", var.environment, { stat = "Sum", label = "open sockets (all tasks)" }],
        [var.metrics_namespace, "atelier_gateway_messages_delivered_total", "environment", var.environment, { stat = "Sum", label = "messages delivered", yAxis = "right" }],
        [var.metrics_namespace, "atelier_gateway_slow_consumers_closed_total", "environment", var.environment, { stat = "Sum", label = "slow consumers closed", yAxis = "right" }],
      ]
    },
    { title = "JWKS fetches by outcome", metrics = [[{ expression = local.search.jwks_fetches, id = "jwks" }]] },
    { title = "Image jobs by outcome", metrics = [[{ expression = local.search.jobs, id = "jobs" }]] },
    {
      title = "Image generation time (s)"
      metrics = [
        [var.metrics_namespace, "atelier_generation_seconds", "environment", var.environment, { stat = "Average", label = "mean" }],
        [var.metrics_namespace, "atelier_generation_seconds", "environment", var.environment, { stat = "Maximum", label = "max" }],
      ]
    },
    {
      title   = "Outbox lag (s)"
      metrics = [[var.metrics_namespace, "atelier_outbox_lag_seconds", "environment", var.environment, { stat = "Maximum", label = "oldest unrelayed row" }]]
    },
    { title = "Queue depth by queue", metrics = [[{ expression = local.search.queue_depth, id = "queues" }]] },
    { title = "Retention runs by outcome", metrics = [[{ expression = local.search.retention_runs, id = "retention" }]] },
  ]

  # Alarms of this region (the WAF alarm is in us-east-1, on its own topic).
  dashboard_alarms = concat(
    [aws_cloudwatch_metric_alarm.alb_5xx.arn, aws_cloudwatch_metric_alarm.handshake_refusals.arn,
    aws_cloudwatch_metric_alarm.outbox_lag.arn, aws_cloudwatch_metric_alarm.dlq_depth.arn, aws_cloudwatch_metric_alarm.queue_age.arn],
    [for a in aws_cloudwatch_metric_alarm.refresh_failures : a.arn],
    [for a in aws_cloudwatch_metric_alarm.no_running_tasks : a.arn],
    [for a in aws_cloudwatch_metric_alarm.job_failed : a.arn],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name

  dashboard_body = jsonencode({
    widgets = concat(
      [{
        type   = "alarm"
        x      = 0
        y      = 0
        width  = 24
        height = 4
        properties = {
          title  = "What pages the on-call person"
          alarms = local.dashboard_alarms
        }
      }],
      [for i, w in local.metric_widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = 4 + floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = 300
          metrics = w.metrics
        }
      }],
    )
  })
}
