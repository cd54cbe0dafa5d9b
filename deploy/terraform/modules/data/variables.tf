variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "environment" {
  description = "Environment name (dev, prod); part of the Parameter Store paths."
  type        = string
}

variable "data_subnet_ids" {
  description = "Private data subnets (two AZs) for RDS and ElastiCache."
  type        = list(string)
}

variable "database_security_group_id" {
  description = "Security group of the RDS instance (ingress managed by the network module)."
  type        = string
}

variable "cache_security_group_id" {
  description = "Security group of the ElastiCache replication group."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting storage, snapshots, secrets and logs."
  type        = string
}

variable "logs_bucket_id" {
  description = "Bucket receiving the S3 server access logs of the images bucket."
  type        = string
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_engine_version" {
  description = "PostgreSQL major.minor version (minor upgrades are applied automatically)."
  type        = string
}

variable "db_allocated_storage_gb" {
  description = "Initial RDS storage in GiB."
  type        = number
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups (point-in-time recovery window)."
  type        = number
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "cache_engine_version" {
  description = "Redis engine version."
  type        = string
}

variable "cache_snapshot_retention_days" {
  description = "Days of ElastiCache snapshots kept."
  type        = number
}

variable "images_noncurrent_expiration_days" {
  description = "Days a deleted or overwritten image version is kept before it is removed for good."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of the RDS and Redis log groups."
  type        = number
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
