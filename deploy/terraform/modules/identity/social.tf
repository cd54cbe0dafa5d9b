# Sign in with Apple and Google as identity providers of the pool. The mobile API verifies
# the Apple or Google ID token itself, then mirrors the link into the pool
# (AdminLinkProviderForUser, SourceUser ProviderName "SignInWithApple" / "Google",
# adapters/aws/cognito.py); Cognito refuses a link to a provider the pool does not have.
# Each provider exists only when its variable is set. The secrets (Apple's .p8 key,
# Google's client secret) are read from Secrets Manager: Cognito takes them as provider
# details, so they are in the state (encrypted with the environment's key), never in tfvars.

locals {
  # Cognito's own attribute names <- the provider's claims; the pool's username is the
  # e-mail (username_attributes), the provider's subject identifies the federated user.
  social_attribute_mapping = {
    email    = "email"
    username = "sub"
  }
}

data "aws_secretsmanager_secret_version" "apple_private_key" {
  count     = var.apple_sign_in == null ? 0 : 1
  secret_id = var.apple_sign_in.private_key_secret_arn
}

resource "aws_cognito_identity_provider" "apple" {
  count         = var.apple_sign_in == null ? 0 : 1
  user_pool_id  = aws_cognito_user_pool.this.id
  provider_name = "SignInWithApple"
  provider_type = "SignInWithApple"

  provider_details = {
    client_id        = var.apple_sign_in.services_id
    team_id          = var.apple_sign_in.team_id
    key_id           = var.apple_sign_in.key_id
    private_key      = data.aws_secretsmanager_secret_version.apple_private_key[0].secret_string
    authorize_scopes = "email name"
  }

  attribute_mapping = local.social_attribute_mapping
}

data "aws_secretsmanager_secret_version" "google_client_secret" {
  count     = var.google_sign_in == null ? 0 : 1
  secret_id = var.google_sign_in.client_secret_secret_arn
}

resource "aws_cognito_identity_provider" "google" {
  count         = var.google_sign_in == null ? 0 : 1
  user_pool_id  = aws_cognito_user_pool.this.id
  provider_name = "Google"
  provider_type = "Google"

  provider_details = {
    client_id        = var.google_sign_in.client_id
    client_secret    = data.aws_secretsmanager_secret_version.google_client_secret[0].secret_string
    authorize_scopes = "openid email profile"
  }

  attribute_mapping = local.social_attribute_mapping
}
