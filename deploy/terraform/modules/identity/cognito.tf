# Cognito user pool: members sign up with e-mail, confirm with a 6-digit code; the
# `admins` group gates the admin API. Two Lambda triggers keep RDS in step.

data "aws_region" "current" {}

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = "ACTIVE"
  mfa_configuration        = "OPTIONAL"

  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = false
    temporary_password_validity_days = 3
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = false
  }

  user_attribute_update_settings {
    attributes_require_verification_before_update = ["email"]
  }

  verification_message_template {
    default_email_option = "CONFIRM_WITH_CODE"
  }

  email_configuration {
    email_sending_account = var.cognito_email_via_ses ? "DEVELOPER" : "COGNITO_DEFAULT"
    source_arn            = var.cognito_email_via_ses ? var.ses_identity_arn : null
    from_email_address    = var.cognito_email_via_ses ? var.ses_sender : null
  }

  user_pool_add_ons {
    advanced_security_mode = "ENFORCED"
  }

  lambda_config {
    pre_sign_up       = aws_lambda_function.trigger["pre-sign-up"].arn
    post_confirmation = aws_lambda_function.trigger["post-confirmation"].arn
  }

  tags = var.tags
}

resource "aws_cognito_user_group" "admins" {
  user_pool_id = aws_cognito_user_pool.this.id
  name         = "admins"
  description  = "Administrators of the Atelier admin API"
}

# The mobile API signs users in on their behalf (USER_PASSWORD_AUTH, refresh).
resource "aws_cognito_user_pool_client" "mobile" {
  name                                 = "${var.name}-mobile-api"
  user_pool_id                         = aws_cognito_user_pool.this.id
  generate_secret                      = false
  explicit_auth_flows                  = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
  access_token_validity                = 60
  id_token_validity                    = 60
  refresh_token_validity               = 30
  allowed_oauth_flows_user_pool_client = false

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

# The admin web console (SRP, never a plain password over the wire).
resource "aws_cognito_user_pool_client" "admin" {
  name                          = "${var.name}-admin-console"
  user_pool_id                  = aws_cognito_user_pool.this.id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  access_token_validity         = 60
  id_token_validity             = 60
  refresh_token_validity        = 1

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}
