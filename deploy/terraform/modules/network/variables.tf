variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC (a /16 leaves room for three /20 tiers in each AZ)."
  type        = string
}

variable "availability_zones" {
  description = "Exactly two availability zones the subnets are spread over."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 2
    error_message = "The network spans exactly two availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper, dev) instead of one per AZ (prod)."
  type        = bool
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints (short names, e.g. sqs, ecr.api)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key encrypting the VPC flow log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the VPC flow log group."
  type        = number
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
