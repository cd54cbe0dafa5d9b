output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_names" {
  description = "ECS service name of each long-running deployable."
  value       = { for k, s in aws_ecs_service.this : k => s.name }
}

output "task_families" {
  description = "Task definition family of every task (services, migrate, scheduled jobs)."
  value       = { for k, t in aws_ecs_task_definition.this : k => t.family }
}

output "task_definition_arns" {
  description = "Task definition ARN without revision of every task."
  value       = { for k, t in aws_ecs_task_definition.this : k => t.arn_without_revision }
}

output "execution_role_arns" {
  description = "Execution role of every task family (the pipeline passes them when it registers revisions)."
  value       = { for k, r in aws_iam_role.execution : k => r.arn }
}

output "task_role_arns" {
  description = "Task role of every task family."
  value       = { for k, r in aws_iam_role.task : k => r.arn }
}

output "ecr_repository_url" {
  description = "URL of the ECR repository (images tagged <target>-<git sha>)."
  value       = aws_ecr_repository.this.repository_url
}

output "ecr_repository_arn" {
  description = "ARN of the ECR repository."
  value       = aws_ecr_repository.this.arn
}

output "image_tag_parameter" {
  description = "Parameter Store name of the deployed image tag suffix."
  value       = aws_ssm_parameter.image_tag.name
}

output "image_tag_parameter_arn" {
  description = "ARN of the deployed image tag parameter."
  value       = aws_ssm_parameter.image_tag.arn
}

output "bastion_instance_id" {
  description = "Instance id of the bastion (aws ssm start-session --target ...)."
  value       = aws_instance.bastion.id
}

output "log_group_arns" {
  description = "Log group ARN of every task family."
  value       = { for k, g in aws_cloudwatch_log_group.task : k => g.arn }
}

output "schedule_rule_names" {
  description = "EventBridge rule of each scheduled task family (keys-rotate, guests-purge, maintenance-run)."
  value       = { for k, r in aws_cloudwatch_event_rule.schedule : k => r.name }
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the application metrics the collectors write."
  value       = local.metrics_namespace
}

output "app_metric_dimensions" {
  description = "Application metric -> the dimension sets the collectors keep in CloudWatch."
  value       = local.app_metrics
}
