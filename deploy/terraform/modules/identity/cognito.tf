# Cognito user pool: members sign up with e-mail, confirm with a 6-digit code; the
# `admins` group gates the admin API. Two Lambda triggers keep RDS in step.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # Cognito sends through SES only from a verified identity (EmailConfiguration.SourceArn:
  # "a verified email address or domain"). The domain identity is created in the same
  # apply and verifies minutes to hours later, once SES sees the DKIM records; until the
  # provider reads it as verified (verified_for_sending_status, refreshed on every plan)
  # the pool keeps Cognito's own sender, and the next apply after that switches to SES.
  email_via_ses = var.cognito_email_via_ses && var.ses_identity_verified
}

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  user_pool_tier           = var.user_pool_tier
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = "ACTIVE"
  mfa_configuration        = "OPTIONAL"

  software_token_mfa_configuration {
    enabled = true
  }

  # The one password policy (domain/users/passwords.py, held to this by a test): 12 or
  # more characters, no composition rules (NIST SP 800-63B).
  password_policy {
    minimum_length                   = 12
    require_lowercase                = false
    require_uppercase                = false
    require_numbers                  = false
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
    email_sending_account = local.email_via_ses ? "DEVELOPER" : "COGNITO_DEFAULT"
    source_arn            = local.email_via_ses ? var.ses_identity_arn : null
    from_email_address    = local.email_via_ses ? var.ses_sender : null
  }

  # Threat protection (advanced security) exists on the PLUS tier only: on ESSENTIALS,
  # which new pools get by default, AWS refuses it with FeatureUnavailableInTierException.
  # The tier is a choice per environment (docs/cost.md explains the default, ESSENTIALS).
  dynamic "user_pool_add_ons" {
    for_each = var.user_pool_tier == "PLUS" ? ["ENFORCED"] : []

    content {
      advanced_security_mode = user_pool_add_ons.value
    }
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
# No supported_identity_providers: the app never federates through the hosted UI. It
# verifies Apple and Google ID tokens itself and links them with AdminLinkProviderForUser,
# which needs the providers in the pool (social.tf), not on a client; listing them here
# would only open an OAuth sign-in path this client does not use (its OAuth flows are off).
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

# Admin tools calling the admin API (SRP, never a plain password over the wire); the web
# console has its own client below.
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

# The web console signs administrators in through the hosted UI: authorization code with
# PKCE, a public client (no secret: the console keeps only its own session cookie), back
# to <public url>/auth/callback. The console then requires the `admins` group.
resource "aws_cognito_user_pool_client" "console" {
  name                                 = "${var.name}-web-console"
  user_pool_id                         = aws_cognito_user_pool.this.id
  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["${var.console_url}/auth/callback"]
  logout_urls                          = ["${var.console_url}/"]
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
  access_token_validity                = 60
  id_token_validity                    = 60
  refresh_token_validity               = 1

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

# The hosted UI's address: a prefix domain on amazoncognito.com. The prefix must be unique
# in the region across all AWS accounts, hence the account id in it.
resource "aws_cognito_user_pool_domain" "this" {
  domain       = "${var.name}-${data.aws_caller_identity.current.account_id}"
  user_pool_id = aws_cognito_user_pool.this.id
}
