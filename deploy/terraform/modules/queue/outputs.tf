output "queue_url" {
  description = "URL of the image-jobs queue (ATELIER_SQS_QUEUE_URL)."
  value       = aws_sqs_queue.jobs.id
}

output "queue_arn" {
  description = "ARN of the image-jobs queue."
  value       = aws_sqs_queue.jobs.arn
}

output "queue_name" {
  description = "Name of the image-jobs queue (CloudWatch dimension)."
  value       = aws_sqs_queue.jobs.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the dead-letter queue (CloudWatch dimension)."
  value       = aws_sqs_queue.dlq.name
}

output "ses_identity_arn" {
  description = "ARN of the SES domain identity."
  value       = aws_sesv2_email_identity.domain.arn
}

output "ses_identity_verified" {
  description = "Whether SES reports the domain identity verified for sending (DKIM found); false on the apply that creates it."
  value       = aws_sesv2_email_identity.domain.verified_for_sending_status
}

output "ses_configuration_set_name" {
  description = "SES configuration set applied to the domain identity."
  value       = aws_sesv2_configuration_set.this.configuration_set_name
}

output "ses_sender" {
  description = "Sender address of the app's mail (ATELIER_SES_SENDER)."
  value       = var.ses_sender
}
