output "alarm_topic_arn" {
  description = "ARN of the SNS topic receiving every alarm."
  value       = aws_sns_topic.alarms.arn
}

output "edge_alarm_topic_arn" {
  description = "ARN of the us-east-1 SNS topic receiving the WAF alarm."
  value       = aws_sns_topic.edge_alarms.arn
}

output "dashboard_name" {
  description = "Name of the environment's CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
