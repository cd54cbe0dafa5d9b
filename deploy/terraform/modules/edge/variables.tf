variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "domain_name" {
  description = "Public host name of the API (CloudFront alias), e.g. api.example.com."
  type        = string
}

variable "origin_domain_name" {
  description = "Host name CloudFront uses to reach the ALB (certificate on the ALB), e.g. origin.api.example.com."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone holding domain_name and origin_domain_name."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the target groups."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the ALB (two AZs)."
  type        = list(string)
}

variable "alb_security_group_ids" {
  description = "Security groups of the ALB (CloudFront origin-facing prefix list only)."
  type        = list(string)
}

variable "logs_bucket_id" {
  description = "Bucket receiving ALB access logs (prefix alb/)."
  type        = string
}

variable "logs_bucket_domain_name" {
  description = "Domain name of the bucket receiving CloudFront standard logs (prefix cloudfront/)."
  type        = string
}

variable "admin_allowed_cidrs" {
  description = "IPv4 CIDRs allowed to reach /v1/api/admin (enforced by WAF, and again by the admin API)."
  type        = list(string)
}

variable "rate_limit_per_5_minutes" {
  description = "Requests per client IP per 5-minute window above which WAF blocks the IP."
  type        = number
}

variable "cloudfront_price_class" {
  description = "CloudFront price class (edge locations used)."
  type        = string
}

variable "gateway_deregistration_delay_seconds" {
  description = "Time the gateway target group waits for WebSocket connections to drain. Each gateway task polls its own target (ATELIER_GATEWAY_TARGET_HEALTH_POLL_SECONDS, 5) and starts its paced drain (ATELIER_GATEWAY_DRAIN_SECONDS, 30) when the target turns draining; at the end of this delay the ALB cuts whatever is still open, all at once, and only then does ECS send SIGTERM: keep it >= poll + drain + 15 s of margin (docs/deploy.md, gateway draining)."
  type        = number

  validation {
    condition     = var.gateway_deregistration_delay_seconds >= 5 + 30 + 15
    error_message = "The gateway's deregistration delay must cover one 5 s poll of its target, its 30 s paced drain and 15 s of margin (50 s)."
  }
}

variable "waf_log_retention_days" {
  description = "Retention of the WAF log group."
  type        = number
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
