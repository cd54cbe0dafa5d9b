variable "name" {
  description = "Name prefix of every resource of this environment, e.g. atelier-prod."
  type        = string
}

variable "lambda_zip_path" {
  description = "Path of the Cognito trigger package built by deploy/lambda/build.py (deploy/lambda/build/cognito_triggers.zip)."
  type        = string
}

variable "lambda_runtime" {
  description = "Lambda runtime of the trigger functions."
  type        = string
}

variable "lambda_architecture" {
  description = "Instruction set of the trigger functions (must match the wheels in the zip)."
  type        = string
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of each trigger (caps database connections from Lambda)."
  type        = number
}

variable "app_subnet_ids" {
  description = "Private application subnets the trigger functions run in (they reach RDS)."
  type        = list(string)
}

variable "lambda_security_group_id" {
  description = "Security group of the trigger functions."
  type        = string
}

variable "database_url_secret_arn" {
  description = "ARN of the DATABASE_URL secret (post confirmation upserts the user row)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key (log groups, environment variables, secret decryption)."
  type        = string
}

variable "ses_identity_arn" {
  description = "SES identity Cognito sends its mail through."
  type        = string
}

variable "ses_sender" {
  description = "From address of Cognito's mail (confirmation codes)."
  type        = string
}

variable "cognito_email_via_ses" {
  description = "Send Cognito mail through the SES identity once it is verified (true, needs SES production access) or always through Cognito's built-in sender (false, 50 mails a day)."
  type        = bool
}

variable "ses_identity_verified" {
  description = "Whether SES reports the identity verified for sending (the queue module's ses_identity_verified); Cognito uses it only then."
  type        = bool
}

variable "user_pool_tier" {
  description = "Cognito feature plan: ESSENTIALS, or PLUS for threat protection (advanced security, ENFORCED). See docs/cost.md."
  type        = string

  validation {
    condition     = contains(["ESSENTIALS", "PLUS"], var.user_pool_tier)
    error_message = "user_pool_tier must be ESSENTIALS or PLUS."
  }
}

variable "console_url" {
  description = "Public base URL of the web console, e.g. https://api.example.com (its hosted UI callback is <url>/auth/callback)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the trigger log groups."
  type        = number
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}

variable "apple_sign_in" {
  description = "Sign in with Apple (null: off). services_id is the Services ID Cognito signs in with; team_id, key_id and the ARN of the Secrets Manager secret holding the key's .p8 PEM; app_client_ids are what the mobile API accepts (docs/deploy.md)."
  type = object({
    services_id            = string
    team_id                = string
    key_id                 = string
    private_key_secret_arn = string
    app_client_ids         = list(string)
  })
  default = null
}

variable "google_sign_in" {
  description = "Sign in with Google (null: off). client_id and the ARN of the Secrets Manager secret holding the client secret of the web OAuth client Cognito uses; app_client_ids are what the mobile API accepts (docs/deploy.md)."
  type = object({
    client_id                = string
    client_secret_secret_arn = string
    app_client_ids           = list(string)
  })
  default = null
}
