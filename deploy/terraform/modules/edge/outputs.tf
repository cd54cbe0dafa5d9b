output "target_group_arns" {
  description = "Target group ARN of each HTTP service (mobile-api, admin-api, gateway, console)."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn }
}

output "target_group_arn_suffixes" {
  description = "Target group ARN suffix of each HTTP service (CloudWatch dimension)."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn_suffix }
}

output "alb_arn_suffix" {
  description = "ALB ARN suffix (CloudWatch dimension)."
  value       = aws_lb.this.arn_suffix
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener."
  value       = aws_lb_listener.https.arn
}

output "cloudfront_distribution_id" {
  description = "Id of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.id
}

output "cloudfront_domain_name" {
  description = "Domain name of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "public_url" {
  description = "Public base URL of the API (ATELIER_PUBLIC_URL, ATELIER_ISSUER)."
  value       = "https://${var.domain_name}"
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL on CloudFront."
  value       = aws_wafv2_web_acl.this.arn
}

output "web_acl_name" {
  description = "Name of the WAF web ACL (the WebACL dimension of its CloudWatch metrics, in us-east-1)."
  value       = aws_wafv2_web_acl.this.name
}
