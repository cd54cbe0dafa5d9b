# Telemetry: an AWS Distro for OpenTelemetry (ADOT) collector beside every application
# container. The application serves its Prometheus metrics on ATELIER_METRICS_PORT and
# sends OTLP traces to OTEL_EXPORTER_OTLP_ENDPOINT; both stay inside the task (awsvpc: the
# containers share localhost). The collector writes the metrics to CloudWatch as embedded
# metric format (namespace "Atelier") and the traces to X-Ray. The metrics port is in no
# port mapping, no target group and no security group rule: nothing outside the task can
# reach it.

locals {
  collector_name    = "aws-otel-collector"
  metrics_port      = 9464
  otlp_http_port    = 4318
  metrics_namespace = "Atelier"

  telemetry_environment = {
    ATELIER_METRICS_PORT        = tostring(local.metrics_port)
    OTEL_EXPORTER_OTLP_ENDPOINT = "http://localhost:${local.otlp_http_port}"
    OTEL_RESOURCE_ATTRIBUTES    = "deployment.environment=${var.environment}"
    # X-Ray bills per trace: a share of new traces is kept, and a trace started upstream
    # keeps its caller's decision, so every hop of a kept request is there.
    OTEL_TRACES_SAMPLER     = "parentbased_traceidratio"
    OTEL_TRACES_SAMPLER_ARG = tostring(var.trace_sample_ratio)
  }

  # What reaches CloudWatch, metric by metric: the label sets kept as dimensions. Each set
  # is a custom metric billed per month, so high-cardinality labels (route, method) stay in
  # the traces; every set carries `environment`, a label the collector adds to each scrape.
  app_metrics = {
    atelier_http_request_duration_seconds       = [["environment", "entrypoint"], ["environment", "entrypoint", "status"]]
    atelier_refresh_total                       = [["environment", "outcome"]]
    atelier_gateway_handshakes_total            = [["environment", "outcome"], ["environment", "outcome", "reason"]]
    atelier_gateway_sockets_open                = [["environment"]]
    atelier_gateway_messages_delivered_total    = [["environment"]]
    atelier_gateway_slow_consumers_closed_total = [["environment"]]
    atelier_jwks_fetches_total                  = [["environment", "outcome"]]
    atelier_jobs_total                          = [["environment", "outcome"]]
    atelier_generation_seconds                  = [["environment"]]
    atelier_outbox_lag_seconds                  = [["environment"]]
    atelier_queue_depth                         = [["environment", "queue"]]
    atelier_maintenance_runs_total              = [["environment", "outcome"]]
  }

  collector_config = {
    for k, t in local.tasks : k => yamlencode({
      extensions = {
        health_check = {}
      }
      receivers = {
        otlp = {
          protocols = {
            http = { endpoint = "127.0.0.1:${local.otlp_http_port}" }
          }
        }
        prometheus = {
          # Names as the application exposes them (atelier_refresh_total, not atelier_refresh):
          # the dashboard and the alarms name them so.
          trim_metric_suffixes = false
          config = {
            scrape_configs = [{
              job_name        = "atelier-${k}"
              scrape_interval = "60s"
              static_configs = [{
                targets = ["127.0.0.1:${local.metrics_port}"]
                labels  = { environment = var.environment }
              }]
            }]
          }
        }
      }
      processors = {
        batch = {}
      }
      exporters = {
        awsxray = {
          region = local.region
        }
        awsemf = {
          region                  = local.region
          namespace               = local.metrics_namespace
          log_group_name          = aws_cloudwatch_log_group.metrics.name
          log_stream_name         = "${k}/{TaskId}"
          dimension_rollup_option = "NoDimensionRollup"
          metric_declarations = [
            for metric, dimensions in local.app_metrics : {
              dimensions            = dimensions
              metric_name_selectors = ["^${metric}$"]
            }
          ]
        }
      }
      service = {
        extensions = ["health_check"]
        pipelines = {
          traces  = { receivers = ["otlp"], processors = ["batch"], exporters = ["awsxray"] }
          metrics = { receivers = ["prometheus"], processors = ["batch"], exporters = ["awsemf"] }
        }
      }
    })
  }

  # Not essential: a collector that stops costs telemetry, never the application. In a
  # one-off task the application's exit ends the task and ECS stops the collector.
  collector_container = {
    for k, t in local.tasks : k => {
      name                   = local.collector_name
      image                  = var.adot_collector_image
      essential              = false
      user                   = "10001:10001"
      readonlyRootFilesystem = true
      privileged             = false
      environment            = [{ name = "AOT_CONFIG_CONTENT", value = local.collector_config[k] }]
      healthCheck = {
        command     = ["CMD", "/healthcheck"]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 10
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.task[k].name
          awslogs-region        = local.region
          awslogs-stream-prefix = "adot"
        }
      }
    }
  }
}

# Embedded metric format lands here; CloudWatch extracts the metrics from it.
resource "aws_cloudwatch_log_group" "metrics" {
  name              = "/ecs/${var.name}/metrics"
  retention_in_days = var.metrics_log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# Every task role: the collector's writes, traces to X-Ray and metrics (as log events) to
# the metrics log group. Nothing else.
data "aws_iam_policy_document" "telemetry" {
  # X-Ray has no resource-level permissions for these writes.
  statement {
    sid       = "Traces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "Metrics"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.metrics.arn}:*"]
  }
}

resource "aws_iam_role_policy" "telemetry" {
  for_each = local.tasks
  name     = "telemetry"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.telemetry.json
}
