variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the queues."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "Initial visibility timeout of an image job (the worker extends it while a generation runs)."
  type        = number
}

variable "max_receive_count" {
  description = "Receives after which a job moves to the dead-letter queue."
  type        = number
}

variable "dlq_retention_seconds" {
  description = "How long a dead-lettered job is kept for inspection and redrive (max 14 days)."
  type        = number
}

variable "ses_domain" {
  description = "Domain verified in SES for outgoing mail (DKIM records are created in the hosted zone)."
  type        = string
}

variable "ses_sender" {
  description = "Sender address of the app's mail (ATELIER_SES_SENDER); must be in ses_domain."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of ses_domain."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
