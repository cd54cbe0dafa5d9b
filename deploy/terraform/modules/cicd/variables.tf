variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "environment" {
  description = "Environment name; also the GitHub environment allowed to assume the deploy role."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflow deploys this environment."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "ARN of the account's GitHub Actions OIDC provider (created by bootstrap/)."
  type        = string
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository the pipeline pushes to."
  type        = string
}

variable "ecr_repository_url" {
  description = "URL of the ECR repository."
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster name."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster ARN."
  type        = string
}

variable "service_names" {
  description = "ECS service name of each long-running deployable."
  type        = map(string)
}

variable "task_families" {
  description = "Task definition family of every task."
  type        = map(string)
}

variable "task_definition_arns" {
  description = "Task definition ARN (without revision) of every task."
  type        = map(string)
}

variable "pass_role_arns" {
  description = "Execution and task role ARNs the pipeline passes when it registers task definitions."
  type        = list(string)
}

variable "app_subnet_ids" {
  description = "Subnets of the one-off migration task."
  type        = list(string)
}

variable "jobs_security_group_id" {
  description = "Security group of the one-off migration task."
  type        = string
}

variable "lambda_function_names" {
  description = "Cognito trigger function names, by trigger."
  type        = map(string)
}

variable "lambda_function_arns" {
  description = "Cognito trigger function ARNs, by trigger."
  type        = map(string)
}

variable "secret_arn_parameters" {
  description = "Parameter Store names holding each application secret's ARN, by secret name."
  type        = map(string)
}

variable "secret_arns" {
  description = "ARNs of the application secrets (the pipeline checks they hold a value; it never reads one)."
  type        = list(string)
}

variable "image_tag_parameter" {
  description = "Parameter Store name of the deployed image tag suffix."
  type        = string
}

variable "image_tag_parameter_arn" {
  description = "ARN of the deployed image tag parameter."
  type        = string
}

variable "migrate_log_group_arn" {
  description = "Log group of the migrate task (the pipeline prints its output)."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
