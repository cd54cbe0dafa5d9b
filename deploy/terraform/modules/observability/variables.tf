variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
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

variable "alb_5xx_threshold" {
  description = "5xx responses per 5 minutes (ALB + targets) that raise the alarm."
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
