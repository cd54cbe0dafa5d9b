variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "environment" {
  description = "Environment name (dev, prod); part of the Parameter Store paths."
  type        = string
}

variable "services" {
  description = "Size and scaling of each long-running ECS service (keys: mobile-api, admin-api, gateway, console, worker)."
  type = map(object({
    cpu           = number
    memory        = number
    min_count     = number
    max_count     = number
    cpu_target    = number
    desired_count = number
  }))

  validation {
    condition     = toset(keys(var.services)) == toset(["mobile-api", "admin-api", "gateway", "console", "worker"])
    error_message = "services must define exactly mobile-api, admin-api, gateway, console and worker."
  }
}

variable "job_cpu" {
  description = "CPU units of the one-off and scheduled tasks (migrate, keys rotate, guests purge)."
  type        = number
}

variable "job_memory" {
  description = "Memory (MiB) of the one-off and scheduled tasks."
  type        = number
}

variable "worker_backlog_target" {
  description = "Visible messages in the image-jobs queue the worker autoscaling aims at."
  type        = number
}

variable "initial_image_tag" {
  description = "Image tag suffix used until the pipeline publishes one (the parameter /atelier/<env>/deploy/image-tag)."
  type        = string
}

variable "ecr_keep_images" {
  description = "Number of images kept in ECR before the oldest expire."
  type        = number
}

variable "vpc_id" {
  description = "VPC of the tasks and bastion."
  type        = string
}

variable "app_subnet_ids" {
  description = "Private application subnets (tasks, bastion)."
  type        = list(string)
}

variable "workload_security_group_ids" {
  description = "Security group of each workload, from the network module."
  type        = map(string)
}

variable "target_group_arns" {
  description = "Target group ARN of each HTTP service, from the edge module."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key (logs, ECR, secrets, S3, SQS)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the ECS log groups."
  type        = number
}

variable "database_url_secret_arn" {
  description = "ARN of the DATABASE_URL secret."
  type        = string
}

variable "redis_url_secret_arn" {
  description = "ARN of the REDIS_URL secret."
  type        = string
}

variable "openai_api_key_secret_arn" {
  description = "ARN of the OPENAI_API_KEY secret."
  type        = string
}

variable "refresh_token_secret_arn" {
  description = "ARN of the secret sealing refresh tokens (ATELIER_REFRESH_TOKEN_SECRET)."
  type        = string
}

variable "signing_keys_secret_arn" {
  description = "ARN of the signing key ring secret (ATELIER_KEYSTORE_SECRET_ID)."
  type        = string
}

variable "images_bucket_name" {
  description = "Name of the images bucket."
  type        = string
}

variable "images_bucket_arn" {
  description = "ARN of the images bucket."
  type        = string
}

variable "queue_url" {
  description = "URL of the image-jobs queue."
  type        = string
}

variable "queue_arn" {
  description = "ARN of the image-jobs queue."
  type        = string
}

variable "dlq_arn" {
  description = "ARN of the image-jobs dead-letter queue (the worker consumes it, the API finds it)."
  type        = string
}

variable "queue_name" {
  description = "Name of the image-jobs queue (worker autoscaling metric)."
  type        = string
}

variable "ses_identity_arn" {
  description = "ARN of the SES identity the worker sends from."
  type        = string
}

variable "ses_configuration_set_name" {
  description = "SES configuration set the worker's mail goes through."
  type        = string
}

variable "ses_sender" {
  description = "Sender address of the app's mail (ATELIER_SES_SENDER)."
  type        = string
}

variable "user_pool_id" {
  description = "Cognito user pool id."
  type        = string
}

variable "user_pool_arn" {
  description = "Cognito user pool ARN."
  type        = string
}

variable "cognito_client_id" {
  description = "Cognito app client of the mobile API."
  type        = string
}

variable "admin_cognito_client_id" {
  description = "Cognito app client of the admin web console, whose tokens the admin API accepts (ATELIER_ADMIN_COGNITO_CLIENT_IDS)."
  type        = string
}

variable "console_cognito_client_id" {
  description = "Cognito app client of the web console (hosted UI, code + PKCE; ATELIER_CONSOLE_COGNITO_CLIENT_ID)."
  type        = string
}

variable "cognito_hosted_ui_url" {
  description = "Base URL of the pool's hosted UI the console sends admins to (ATELIER_CONSOLE_COGNITO_DOMAIN)."
  type        = string
}

variable "console_session_idle_minutes" {
  description = "Minutes without a request after which a console session ends (ATELIER_CONSOLE_SESSION_IDLE_MINUTES)."
  type        = number
}

variable "console_session_absolute_hours" {
  description = "Hours after sign-in at which a console session ends whatever its use (ATELIER_CONSOLE_SESSION_ABSOLUTE_HOURS)."
  type        = number
}

variable "cognito_issuer" {
  description = "Issuer of the Cognito pool's tokens (ATELIER_ADMIN_COGNITO_ISSUER)."
  type        = string
}

variable "cognito_jwks_url" {
  description = "JWKS URL of the Cognito pool (ATELIER_ADMIN_COGNITO_JWKS_URL)."
  type        = string
}

variable "public_url" {
  description = "Public base URL of the API, e.g. https://api.example.com (ATELIER_PUBLIC_URL, ATELIER_ISSUER)."
  type        = string
}

variable "admin_allowed_cidrs" {
  description = "CIDRs allowed on the admin API (ATELIER_ADMIN_ALLOWED_CIDRS), also enforced by WAF."
  type        = list(string)
}

variable "keys_rotate_schedule" {
  description = "EventBridge schedule of `atelier keys rotate`."
  type        = string
}

variable "guests_purge_schedule" {
  description = "EventBridge schedule of `atelier guests purge`."
  type        = string
}

variable "maintenance_run_schedule" {
  description = "EventBridge schedule of `atelier maintenance run` (retention deletes)."
  type        = string
}

variable "adot_collector_image" {
  description = "Image of the ADOT collector beside every task, pinned by version (public.ecr.aws/aws-observability/aws-otel-collector:vX.Y.Z)."
  type        = string

  validation {
    condition     = can(regex("^public\\.ecr\\.aws/aws-observability/aws-otel-collector:v[0-9]+\\.[0-9]+\\.[0-9]+$", var.adot_collector_image))
    error_message = "adot_collector_image must be aws-otel-collector pinned to an exact version."
  }
}

variable "trace_sample_ratio" {
  description = "Share of new traces sent to X-Ray (0 to 1; OTEL_TRACES_SAMPLER_ARG). Requests continuing a trace follow their caller."
  type        = number

  validation {
    condition     = var.trace_sample_ratio >= 0 && var.trace_sample_ratio <= 1
    error_message = "trace_sample_ratio is a share between 0 and 1."
  }
}

variable "metrics_log_retention_days" {
  description = "Retention of the embedded-metric-format log group (CloudWatch keeps the extracted metrics on its own schedule)."
  type        = number
}

variable "bastion_instance_type" {
  description = "Instance type of the bastion (SSM Session Manager port forwarding to RDS)."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}

variable "apple_sign_in" {
  description = "Sign in with Apple (null: off). services_id is the Services ID Cognito signs in with; team_id, key_id and the ARN of the Secrets Manager secret holding the key's .p8 PEM; app_client_ids are what the mobile API accepts (docs/deploy.md)."
  type = object({
    services_id            = string
    team_id                = string
    key_id                 = string
    private_key_secret_arn = string
    app_client_ids         = list(string)
  })
  default = null
}

variable "google_sign_in" {
  description = "Sign in with Google (null: off). client_id and the ARN of the Secrets Manager secret holding the client secret of the web OAuth client Cognito uses; app_client_ids are what the mobile API accepts (docs/deploy.md)."
  type = object({
    client_id                = string
    client_secret_secret_arn = string
    app_client_ids           = list(string)
  })
  default = null
}
