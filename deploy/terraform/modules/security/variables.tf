variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "environment" {
  description = "Environment name (dev, prod); part of the Parameter Store paths."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups created here (CloudTrail)."
  type        = number
}

variable "access_log_expiration_days" {
  description = "Days after which objects in the access-log bucket (ALB, CloudFront, S3, CloudTrail) expire."
  type        = number
}

variable "enable_guardduty" {
  description = "Create the GuardDuty detector. One detector exists per account and region: set false in a second environment sharing an account."
  type        = bool
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the environment's KMS key is deleted after a destroy."
  type        = number
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
