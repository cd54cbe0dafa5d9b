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
  description = "PostgreSQL major version, e.g. \"16\": RDS applies minor upgrades itself (auto_minor_version_upgrade), so a pinned minor would turn the apply after one into a downgrade attempt."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.db_engine_version))
    error_message = "db_engine_version is a major version only (e.g. \"16\"); the minor is RDS's to upgrade."
  }
}

variable "db_multi_az" {
  description = "Run RDS Multi-AZ (a standby in the second AZ, twice the instance cost)."
  type        = bool
}

variable "cache_nodes" {
  description = "ElastiCache nodes (1 = no replica and no failover; 2 = primary + replica over two AZs)."
  type        = number

  validation {
    condition     = var.cache_nodes >= 1 && var.cache_nodes <= 6
    error_message = "cache_nodes is between 1 and 6."
  }
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
