# prod: same modules as dev, sized and replicated for production.
environment         = "prod"
region              = "ap-northeast-1"
availability_zones  = ["ap-northeast-1a", "ap-northeast-1c"]
vpc_cidr            = "10.20.0.0/16"
single_nat_gateway  = false
interface_endpoints = ["sqs", "secretsmanager", "ecr.api", "ecr.dkr", "logs", "ssm", "ssmmessages", "ec2messages", "kms", "sts"]

route53_zone_name      = "example.com"
domain_name            = "api.example.com"
ses_sender             = "no-reply@example.com"
cognito_email_via_ses  = true
cognito_user_pool_tier = "ESSENTIALS"

admin_allowed_cidrs      = ["203.0.113.0/24"]
rate_limit_per_5_minutes = 2000
cloudfront_price_class   = "PriceClass_All"

db_instance_class             = "db.m7g.large"
db_engine_version             = "16"
db_multi_az                   = true
db_allocated_storage_gb       = 100
db_max_allocated_storage_gb   = 1000
db_backup_retention_days      = 30
cache_node_type               = "cache.m7g.large"
cache_engine_version          = "7.1"
cache_nodes                   = 2
cache_snapshot_retention_days = 7

services = {
  "mobile-api" = { cpu = 1024, memory = 2048, min_count = 2, max_count = 20, cpu_target = 60, desired_count = 2 }
  "admin-api"  = { cpu = 512, memory = 1024, min_count = 2, max_count = 4, cpu_target = 60, desired_count = 2 }
  "gateway"    = { cpu = 1024, memory = 2048, min_count = 2, max_count = 30, cpu_target = 60, desired_count = 2 }
  "console"    = { cpu = 512, memory = 1024, min_count = 2, max_count = 4, cpu_target = 60, desired_count = 2 }
  "worker"     = { cpu = 1024, memory = 2048, min_count = 2, max_count = 20, cpu_target = 70, desired_count = 2 }
}
job_cpu                      = 512
job_memory                   = 1024
worker_backlog_target        = 20
image_jobs_max_receive_count = 5

lambda_zip_path       = "../../../lambda/build/cognito_triggers.zip"
lambda_architecture   = "x86_64"
bastion_instance_type = "t3.micro"

log_retention_days         = 365
access_log_expiration_days = 400
enable_guardduty           = true
alarm_emails               = ["ops@example.com"]
alarm_https_endpoints      = []
refresh_failure_outcomes   = ["reused", "device_mismatch", "invalid", "conflict"]
trace_sample_ratio         = 0.05

github_repository        = "example-org/atelier"
github_oidc_provider_arn = "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"

# Sign in with Apple / Google for the pool and the mobile API: null is off. See docs/deploy.md
# ("Sign in with Apple and Google") for the values; secrets are Secrets Manager ARNs.
apple_sign_in  = null
google_sign_in = null
