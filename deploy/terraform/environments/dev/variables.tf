variable "environment" {
  description = "Environment name (dev, prod): resource names, Parameter Store paths, GitHub environment."
  type        = string
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "availability_zones" {
  description = "The two availability zones of the environment."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC."
  type        = string
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper) instead of one per AZ."
  type        = bool
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints (each costs per AZ-hour); without one, the service is reached through NAT."
  type        = list(string)
}

variable "route53_zone_name" {
  description = "Route 53 public hosted zone (must exist), e.g. example.com."
  type        = string
}

variable "domain_name" {
  description = "Public host name of the API, e.g. api.example.com or api.dev.example.com."
  type        = string
}

variable "ses_sender" {
  description = "Sender address of the app's mail, in route53_zone_name."
  type        = string
}

variable "cognito_email_via_ses" {
  description = "Cognito sends its mail through SES once SES reports the domain verified (needs SES production access) instead of its built-in sender."
  type        = bool
}

variable "cognito_user_pool_tier" {
  description = "Cognito feature plan (ESSENTIALS, or PLUS for threat protection); docs/cost.md explains the choice."
  type        = string
}

variable "admin_allowed_cidrs" {
  description = "IPv4 CIDRs allowed on the admin API (WAF IP set and the admin API's own allow-list)."
  type        = list(string)
}

variable "rate_limit_per_5_minutes" {
  description = "Requests per client IP per 5 minutes above which WAF blocks the IP."
  type        = number
}

variable "cloudfront_price_class" {
  description = "CloudFront price class."
  type        = string
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_engine_version" {
  description = "PostgreSQL major version (RDS applies minor upgrades)."
  type        = string
}

variable "db_multi_az" {
  description = "RDS Multi-AZ (standby in the second AZ)."
  type        = bool
}

variable "db_allocated_storage_gb" {
  description = "Initial RDS storage in GiB."
  type        = number
}

variable "db_max_allocated_storage_gb" {
  description = "RDS storage autoscaling ceiling in GiB."
  type        = number
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups."
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

variable "cache_nodes" {
  description = "ElastiCache nodes: 1 (no failover) or 2+ (replicas over the AZs, automatic failover)."
  type        = number
}

variable "cache_snapshot_retention_days" {
  description = "Days of ElastiCache snapshots kept."
  type        = number
}

variable "services" {
  description = "Size and scaling of each ECS service (mobile-api, admin-api, gateway, console, worker)."
  type = map(object({
    cpu           = number
    memory        = number
    min_count     = number
    max_count     = number
    cpu_target    = number
    desired_count = number
  }))
}

variable "job_cpu" {
  description = "CPU units of the migrate and scheduled tasks."
  type        = number
}

variable "job_memory" {
  description = "Memory (MiB) of the migrate and scheduled tasks."
  type        = number
}

variable "worker_backlog_target" {
  description = "Visible image jobs the worker autoscaling aims at."
  type        = number
}

variable "image_jobs_max_receive_count" {
  description = "Receives after which an image job is dead-lettered."
  type        = number
}

variable "lambda_zip_path" {
  description = "Cognito trigger package built by deploy/lambda/build.py, relative to this directory."
  type        = string
}

variable "lambda_architecture" {
  description = "Instruction set of the trigger functions (x86_64 or arm64), matching the wheels in the zip."
  type        = string
}

variable "bastion_instance_type" {
  description = "Instance type of the bastion."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group."
  type        = number
}

variable "access_log_expiration_days" {
  description = "Days access logs and CloudTrail files are kept in the log bucket."
  type        = number
}

variable "enable_guardduty" {
  description = "Create the account's GuardDuty detector in this region (false when another environment in the same account already does)."
  type        = bool
}

variable "alarm_emails" {
  description = "Addresses receiving alarms."
  type        = list(string)
}

variable "alarm_https_endpoints" {
  description = "HTTPS endpoints subscribed to the alarm topics (a chat or paging integration that confirms SNS subscriptions); empty for none."
  type        = list(string)
}

variable "trace_sample_ratio" {
  description = "Share of new traces sent to X-Ray (0 to 1); see docs/cost.md."
  type        = number
}

variable "refresh_failure_outcomes" {
  description = "Outcomes of atelier_refresh_total that are failures, one alarm each (a refresh token reused, expired, revoked...)."
  type        = list(string)
}

variable "github_repository" {
  description = "GitHub repository (owner/name) allowed to deploy, from its environment of the same name."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC provider (output of bootstrap/)."
  type        = string
}

variable "apple_sign_in" {
  description = "Sign in with Apple for the pool and the mobile API (null: off; docs/deploy.md). services_id is the Services ID Cognito signs in with; team_id, key_id and the ARN of the Secrets Manager secret holding the key's .p8 PEM; app_client_ids are what the mobile API accepts (docs/deploy.md)."
  type = object({
    services_id            = string
    team_id                = string
    key_id                 = string
    private_key_secret_arn = string
    app_client_ids         = list(string)
  })
  default = null

  # The key itself stays in Secrets Manager: a plain PEM here would sit in tfvars and git.
  validation {
    condition     = var.apple_sign_in == null || can(regex("^arn:[^:]+:secretsmanager:", var.apple_sign_in.private_key_secret_arn))
    error_message = "apple_sign_in.private_key_secret_arn must be the ARN of a Secrets Manager secret."
  }
}

variable "google_sign_in" {
  description = "Sign in with Google for the pool and the mobile API (null: off; docs/deploy.md). client_id and the ARN of the Secrets Manager secret holding the client secret of the web OAuth client Cognito uses; app_client_ids are what the mobile API accepts (docs/deploy.md)."
  type = object({
    client_id                = string
    client_secret_secret_arn = string
    app_client_ids           = list(string)
  })
  default = null

  validation {
    condition     = var.google_sign_in == null || can(regex("^arn:[^:]+:secretsmanager:", var.google_sign_in.client_secret_secret_arn))
    error_message = "google_sign_in.client_secret_secret_arn must be the ARN of a Secrets Manager secret."
  }
}
