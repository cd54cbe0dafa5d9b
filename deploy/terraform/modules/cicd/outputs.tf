output "deploy_role_arn" {
  description = "Role the GitHub workflow assumes (set it as the AWS_DEPLOY_ROLE_ARN variable of the GitHub environment)."
  value       = aws_iam_role.deploy.arn
}

output "deploy_config_parameter" {
  description = "Parameter Store name of the pipeline's configuration."
  value       = aws_ssm_parameter.deploy_config.name
}
