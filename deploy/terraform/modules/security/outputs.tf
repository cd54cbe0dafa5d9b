output "kms_key_arn" {
  description = "ARN of the environment's customer-managed KMS key."
  value       = aws_kms_key.main.arn
}

# The ALB checks on creation that it may write its access logs (else "Access Denied for
# bucket"), CloudFront needs the ACL-enabled ownership setting: consumers of the bucket
# name must wait for the policy and the ownership controls, not just the bucket.
output "logs_bucket_id" {
  description = "Name of the access-log bucket (ALB, CloudFront, S3 server access logs, CloudTrail)."
  value       = aws_s3_bucket.logs.id
  depends_on  = [aws_s3_bucket_policy.logs, aws_s3_bucket_ownership_controls.logs]
}

output "logs_bucket_domain_name" {
  description = "Regional domain name of the access-log bucket (CloudFront logging)."
  value       = aws_s3_bucket.logs.bucket_regional_domain_name
  depends_on  = [aws_s3_bucket_policy.logs, aws_s3_bucket_ownership_controls.logs]
}

output "openai_api_key_secret_arn" {
  description = "ARN of the OpenAI API key secret."
  value       = aws_secretsmanager_secret.app["openai-api-key"].arn
}

output "signing_keys_secret_arn" {
  description = "ARN of the signing key ring secret."
  value       = aws_secretsmanager_secret.app["signing-keys"].arn
}

output "secret_arn_parameters" {
  description = "Parameter Store names holding the ARN of each application secret, by secret name."
  value       = { for k, p in aws_ssm_parameter.app_secret_arn : k => p.name }
}

output "cloudtrail_log_group_name" {
  description = "CloudWatch log group receiving CloudTrail events."
  value       = aws_cloudwatch_log_group.trail.name
}
