# One environment = the same modules with different variables (terraform.tfvars).

locals {
  name = "atelier-${var.environment}"

  tags = {
    Project     = "atelier"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

data "aws_route53_zone" "this" {
  name         = var.route53_zone_name
  private_zone = false
}

module "security" {
  source = "../../modules/security"

  name                       = local.name
  environment                = var.environment
  log_retention_days         = var.log_retention_days
  access_log_expiration_days = var.access_log_expiration_days
  enable_guardduty           = var.enable_guardduty
  kms_deletion_window_days   = 30
  tags                       = local.tags
}

module "network" {
  source = "../../modules/network"

  name                = local.name
  cidr_block          = var.vpc_cidr
  availability_zones  = var.availability_zones
  single_nat_gateway  = var.single_nat_gateway
  interface_endpoints = var.interface_endpoints
  kms_key_arn         = module.security.kms_key_arn
  log_retention_days  = var.log_retention_days
  tags                = local.tags
}

module "data" {
  source = "../../modules/data"

  name                              = local.name
  environment                       = var.environment
  data_subnet_ids                   = module.network.data_subnet_ids
  database_security_group_id        = module.network.database_security_group_id
  cache_security_group_id           = module.network.cache_security_group_id
  kms_key_arn                       = module.security.kms_key_arn
  logs_bucket_id                    = module.security.logs_bucket_id
  db_instance_class                 = var.db_instance_class
  db_engine_version                 = var.db_engine_version
  db_multi_az                       = var.db_multi_az
  db_allocated_storage_gb           = var.db_allocated_storage_gb
  db_max_allocated_storage_gb       = var.db_max_allocated_storage_gb
  db_backup_retention_days          = var.db_backup_retention_days
  cache_node_type                   = var.cache_node_type
  cache_engine_version              = var.cache_engine_version
  cache_nodes                       = var.cache_nodes
  cache_snapshot_retention_days     = var.cache_snapshot_retention_days
  images_noncurrent_expiration_days = 30
  log_retention_days                = var.log_retention_days
  tags                              = local.tags
}

module "queue" {
  source = "../../modules/queue"

  name                       = local.name
  kms_key_arn                = module.security.kms_key_arn
  visibility_timeout_seconds = 300
  max_receive_count          = var.image_jobs_max_receive_count
  dlq_retention_seconds      = 1209600
  ses_domain                 = var.route53_zone_name
  ses_sender                 = var.ses_sender
  route53_zone_id            = data.aws_route53_zone.this.zone_id
  tags                       = local.tags
}

module "identity" {
  source = "../../modules/identity"

  name                        = local.name
  lambda_zip_path             = var.lambda_zip_path
  lambda_runtime              = "python3.11"
  lambda_architecture         = var.lambda_architecture
  lambda_reserved_concurrency = 20
  app_subnet_ids              = module.network.app_subnet_ids
  lambda_security_group_id    = module.network.workload_security_group_ids["lambda"]
  database_url_secret_arn     = module.data.database_url_secret_arn
  kms_key_arn                 = module.security.kms_key_arn
  ses_identity_arn            = module.queue.ses_identity_arn
  ses_sender                  = var.ses_sender
  cognito_email_via_ses       = var.cognito_email_via_ses
  ses_identity_verified       = module.queue.ses_identity_verified
  user_pool_tier              = var.cognito_user_pool_tier
  console_url                 = "https://${var.domain_name}"
  log_retention_days          = var.log_retention_days
  apple_sign_in               = var.apple_sign_in
  google_sign_in              = var.google_sign_in
  tags                        = local.tags
}

module "edge" {
  source = "../../modules/edge"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                                 = local.name
  domain_name                          = var.domain_name
  origin_domain_name                   = "origin.${var.domain_name}"
  route53_zone_id                      = data.aws_route53_zone.this.zone_id
  vpc_id                               = module.network.vpc_id
  public_subnet_ids                    = module.network.public_subnet_ids
  alb_security_group_ids               = module.network.alb_security_group_ids
  logs_bucket_id                       = module.security.logs_bucket_id
  logs_bucket_domain_name              = module.security.logs_bucket_domain_name
  admin_allowed_cidrs                  = var.admin_allowed_cidrs
  rate_limit_per_5_minutes             = var.rate_limit_per_5_minutes
  cloudfront_price_class               = var.cloudfront_price_class
  gateway_deregistration_delay_seconds = 60
  waf_log_retention_days               = var.log_retention_days
  tags                                 = local.tags
}

module "compute" {
  source = "../../modules/compute"

  name                           = local.name
  environment                    = var.environment
  services                       = var.services
  job_cpu                        = var.job_cpu
  job_memory                     = var.job_memory
  worker_backlog_target          = var.worker_backlog_target
  initial_image_tag              = "bootstrap"
  ecr_keep_images                = 200
  vpc_id                         = module.network.vpc_id
  app_subnet_ids                 = module.network.app_subnet_ids
  workload_security_group_ids    = module.network.workload_security_group_ids
  target_group_arns              = module.edge.target_group_arns
  kms_key_arn                    = module.security.kms_key_arn
  log_retention_days             = var.log_retention_days
  database_url_secret_arn        = module.data.database_url_secret_arn
  redis_url_secret_arn           = module.data.redis_url_secret_arn
  openai_api_key_secret_arn      = module.security.openai_api_key_secret_arn
  signing_keys_secret_arn        = module.security.signing_keys_secret_arn
  refresh_token_secret_arn       = module.data.refresh_token_secret_arn
  images_bucket_name             = module.data.images_bucket_name
  images_bucket_arn              = module.data.images_bucket_arn
  queue_url                      = module.queue.queue_url
  queue_arn                      = module.queue.queue_arn
  dlq_arn                        = module.queue.dlq_arn
  queue_name                     = module.queue.queue_name
  ses_identity_arn               = module.queue.ses_identity_arn
  ses_configuration_set_name     = module.queue.ses_configuration_set_name
  ses_sender                     = var.ses_sender
  user_pool_id                   = module.identity.user_pool_id
  user_pool_arn                  = module.identity.user_pool_arn
  cognito_client_id              = module.identity.mobile_client_id
  admin_cognito_client_id        = module.identity.admin_client_id
  console_cognito_client_id      = module.identity.console_client_id
  cognito_hosted_ui_url          = module.identity.hosted_ui_url
  console_session_idle_minutes   = 30
  console_session_absolute_hours = 12
  cognito_issuer                 = module.identity.issuer
  cognito_jwks_url               = module.identity.jwks_url
  public_url                     = module.edge.public_url
  admin_allowed_cidrs            = var.admin_allowed_cidrs
  keys_rotate_schedule           = "rate(1 hour)"
  guests_purge_schedule          = "cron(30 3 * * ? *)"
  maintenance_run_schedule       = "cron(0 4 * * ? *)"
  adot_collector_image           = "public.ecr.aws/aws-observability/aws-otel-collector:v0.45.0"
  apple_sign_in                  = var.apple_sign_in
  google_sign_in                 = var.google_sign_in
  metrics_log_retention_days     = 7
  trace_sample_ratio             = var.trace_sample_ratio
  bastion_instance_type          = var.bastion_instance_type
  tags                           = local.tags
}

module "observability" {
  source = "../../modules/observability"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                             = local.name
  environment                      = var.environment
  kms_key_arn                      = module.security.kms_key_arn
  alarm_emails                     = var.alarm_emails
  alarm_https_endpoints            = var.alarm_https_endpoints
  alb_arn_suffix                   = module.edge.alb_arn_suffix
  target_group_arn_suffixes        = module.edge.target_group_arn_suffixes
  cluster_name                     = module.compute.cluster_name
  cluster_arn                      = module.compute.cluster_arn
  service_names                    = module.compute.service_names
  task_families                    = module.compute.task_families
  schedule_rule_names              = module.compute.schedule_rule_names
  metrics_namespace                = module.compute.metrics_namespace
  web_acl_name                     = module.edge.web_acl_name
  queue_name                       = module.queue.queue_name
  dlq_name                         = module.queue.dlq_name
  db_instance_identifier           = module.data.db_instance_identifier
  cache_cluster_ids                = module.data.cache_cluster_ids
  lambda_function_names            = module.identity.trigger_function_names
  cloudtrail_log_group_name        = module.security.cloudtrail_log_group_name
  alb_5xx_rate_percent             = 2
  alb_5xx_minimum_requests         = 100
  refresh_failure_outcomes         = var.refresh_failure_outcomes
  refresh_failure_threshold        = 20
  handshake_refusal_threshold      = 50
  outbox_lag_threshold_seconds     = 60
  waf_blocked_threshold            = 500
  queue_age_threshold_seconds      = 900
  rds_cpu_threshold_percent        = 80
  rds_free_storage_threshold_bytes = 5368709120
  log_retention_days               = var.log_retention_days
  tags                             = local.tags
}

module "cicd" {
  source = "../../modules/cicd"

  name                     = local.name
  environment              = var.environment
  github_repository        = var.github_repository
  github_oidc_provider_arn = var.github_oidc_provider_arn
  region                   = var.region
  ecr_repository_arn       = module.compute.ecr_repository_arn
  ecr_repository_url       = module.compute.ecr_repository_url
  cluster_name             = module.compute.cluster_name
  cluster_arn              = module.compute.cluster_arn
  service_names            = module.compute.service_names
  task_families            = module.compute.task_families
  task_definition_arns     = module.compute.task_definition_arns
  pass_role_arns           = concat(values(module.compute.execution_role_arns), values(module.compute.task_role_arns))
  app_subnet_ids           = module.network.app_subnet_ids
  jobs_security_group_id   = module.network.workload_security_group_ids["jobs"]
  lambda_function_names    = module.identity.trigger_function_names
  lambda_function_arns     = module.identity.trigger_function_arns
  secret_arn_parameters    = merge(module.security.secret_arn_parameters, module.data.secret_arn_parameters)
  secret_arns = [
    module.data.database_url_secret_arn,
    module.data.redis_url_secret_arn,
    module.security.openai_api_key_secret_arn,
    module.security.signing_keys_secret_arn,
    module.data.refresh_token_secret_arn,
  ]
  image_tag_parameter     = module.compute.image_tag_parameter
  image_tag_parameter_arn = module.compute.image_tag_parameter_arn
  migrate_log_group_arn   = module.compute.log_group_arns["migrate"]
  tags                    = local.tags
}
