variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "environment" {
  description = "Environment name (dev, prod): the `environment` dimension of the application metrics."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the alarm topic."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each confirms by mail)."
  type        = list(string)
}

variable "alarm_https_endpoints" {
  description = "HTTPS endpoints (chat, paging) subscribed to the alarm topics."
  type        = list(string)
}

variable "alb_arn_suffix" {
  description = "ALB ARN suffix (CloudWatch dimension)."
  type        = string
}

variable "target_group_arn_suffixes" {
  description = "Target group ARN suffix of each HTTP service."
  type        = map(string)
}

variable "cluster_name" {
  description = "ECS cluster name."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster ARN (task state change events)."
  type        = string
}

variable "task_families" {
  description = "Task definition family of every task."
  type        = map(string)
}

variable "schedule_rule_names" {
  description = "EventBridge rule of each scheduled task family."
  type        = map(string)
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the application metrics."
  type        = string
}

variable "web_acl_name" {
  description = "Name of the WAF web ACL on CloudFront (its metrics are in us-east-1)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the failed-jobs event log group."
  type        = number
}

variable "service_names" {
  description = "ECS service name of each long-running deployable."
  type        = map(string)
}

variable "queue_name" {
  description = "Name of the image-jobs queue."
  type        = string
}

variable "dlq_name" {
  description = "Name of the dead-letter queue."
  type        = string
}

variable "db_instance_identifier" {
  description = "RDS instance identifier."
  type        = string
}

variable "cache_cluster_ids" {
  description = "Member cluster ids of the ElastiCache replication group (one alarm per node)."
  type        = list(string)
}

variable "lambda_function_names" {
  description = "Cognito trigger function names, by trigger."
  type        = map(string)
}

variable "cloudtrail_log_group_name" {
  description = "Log group receiving CloudTrail events (security metric filters)."
  type        = string
}

variable "alb_5xx_rate_percent" {
  description = "Share of requests (%) answered 5xx by the ALB or a target over 5 minutes that raises the alarm."
  type        = number
}

variable "alb_5xx_minimum_requests" {
  description = "Requests per 5 minutes below which the 5xx rate alarm stays quiet."
  type        = number
}

variable "refresh_failure_outcomes" {
  description = "Outcomes of atelier_refresh_total that are failures (one alarm each)."
  type        = list(string)
}

variable "refresh_failure_threshold" {
  description = "Refreshes failing with one outcome per 5 minutes that raise its alarm."
  type        = number
}

variable "handshake_refusal_threshold" {
  description = "Refused gateway handshakes per 5 minutes (two periods running) that raise the alarm."
  type        = number
}

variable "outbox_lag_threshold_seconds" {
  description = "Age of the oldest unrelayed outbox row that raises the alarm."
  type        = number
}

variable "waf_blocked_threshold" {
  description = "Requests blocked by WAF per 5 minutes that raise the alarm."
  type        = number
}

variable "queue_age_threshold_seconds" {
  description = "Age of the oldest image job that raises the alarm."
  type        = number
}

variable "rds_cpu_threshold_percent" {
  description = "RDS CPU utilisation that raises the alarm."
  type        = number
}

variable "rds_free_storage_threshold_bytes" {
  description = "Free RDS storage below which the alarm is raised."
  type        = number
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
