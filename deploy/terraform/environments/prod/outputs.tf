output "public_url" {
  description = "Public base URL of the API (CloudFront)."
  value       = module.edge.public_url
}

output "cloudfront_domain_name" {
  description = "Domain name of the CloudFront distribution."
  value       = module.edge.cloudfront_domain_name
}

output "deploy_role_arn" {
  description = "Role for the GitHub environment variable AWS_DEPLOY_ROLE_ARN."
  value       = module.cicd.deploy_role_arn
}

output "deploy_config_parameter" {
  description = "Parameter Store name of the pipeline's configuration."
  value       = module.cicd.deploy_config_parameter
}

output "ecr_repository_url" {
  description = "ECR repository of the images."
  value       = module.compute.ecr_repository_url
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = module.compute.cluster_name
}

output "bastion_instance_id" {
  description = "Bastion instance id (SSM Session Manager target)."
  value       = module.compute.bastion_instance_id
}

output "db_address" {
  description = "RDS endpoint (port forwarding through the bastion)."
  value       = module.data.db_address
}

output "user_pool_id" {
  description = "Cognito user pool id."
  value       = module.identity.user_pool_id
}

output "admin_client_id" {
  description = "Cognito app client of admin tools calling the admin API (SRP)."
  value       = module.identity.admin_client_id
}

output "console_client_id" {
  description = "Cognito app client of the web console (hosted UI, code + PKCE)."
  value       = module.identity.console_client_id
}

output "hosted_ui_url" {
  description = "The user pool's hosted UI, where the web console sends administrators to sign in."
  value       = module.identity.hosted_ui_url
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the environment."
  value       = module.observability.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic receiving alarms."
  value       = module.observability.alarm_topic_arn
}

output "secret_arn_parameters" {
  description = "Parameter Store names holding each secret's ARN."
  value       = merge(module.security.secret_arn_parameters, module.data.secret_arn_parameters)
}
