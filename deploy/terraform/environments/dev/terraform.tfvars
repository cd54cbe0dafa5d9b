# dev: same modules as prod, smaller and cheaper.
environment        = "dev"
region             = "ap-northeast-1"
availability_zones = ["ap-northeast-1a", "ap-northeast-1c"]
vpc_cidr           = "10.10.0.0/16"
single_nat_gateway = true
# No interface endpoints in dev: AWS APIs go through the one NAT gateway (docs/cost.md).
interface_endpoints = []

route53_zone_name      = "dev.example.com"
domain_name            = "api.dev.example.com"
ses_sender             = "no-reply@dev.example.com"
cognito_email_via_ses  = false
cognito_user_pool_tier = "ESSENTIALS"

admin_allowed_cidrs      = ["203.0.113.0/24"]
rate_limit_per_5_minutes = 2000
cloudfront_price_class   = "PriceClass_200"

db_instance_class             = "db.t4g.medium"
db_engine_version             = "16"
db_multi_az                   = false
db_allocated_storage_gb       = 20
db_max_allocated_storage_gb   = 100
db_backup_retention_days      = 7
cache_node_type               = "cache.t4g.small"
cache_engine_version          = "7.1"
cache_nodes                   = 1
cache_snapshot_retention_days = 1

services = {
  "mobile-api" = { cpu = 512, memory = 1024, min_count = 1, max_count = 2, cpu_target = 60, desired_count = 1 }
  "admin-api"  = { cpu = 256, memory = 512, min_count = 1, max_count = 1, cpu_target = 60, desired_count = 1 }
  "gateway"    = { cpu = 256, memory = 512, min_count = 1, max_count = 2, cpu_target = 60, desired_count = 1 }
  "console"    = { cpu = 256, memory = 512, min_count = 1, max_count = 1, cpu_target = 60, desired_count = 1 }
  "worker"     = { cpu = 512, memory = 1024, min_count = 1, max_count = 2, cpu_target = 70, desired_count = 1 }
}
job_cpu                      = 256
job_memory                   = 512
worker_backlog_target        = 20
image_jobs_max_receive_count = 5

lambda_zip_path       = "../../../lambda/build/cognito_triggers.zip"
lambda_architecture   = "x86_64"
bastion_instance_type = "t3.micro"

log_retention_days         = 365
access_log_expiration_days = 90
enable_guardduty           = true
alarm_emails               = ["ops-dev@example.com"]
alarm_https_endpoints      = []
refresh_failure_outcomes   = ["reused", "device_mismatch", "invalid", "conflict"]
trace_sample_ratio         = 1

github_repository        = "example-org/atelier"
github_oidc_provider_arn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"

# Sign in with Apple / Google for the pool and the mobile API: null is off. See docs/deploy.md
# ("Sign in with Apple and Google") for the values; secrets are Secrets Manager ARNs.
apple_sign_in  = null
google_sign_in = null
