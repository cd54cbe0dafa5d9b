# Application secrets owned by this module. Terraform creates the containers only; the
# values are written by people (OpenAI key) or by the application (signing keys, through
# `atelier keys rotate`), never by Terraform, so they never reach the state file.
#
# Each secret's ARN is published in Parameter Store under /atelier/<env>/secrets/<name>:
# the pipeline and operators look it up by environment name (one pipeline for every
# environment), the services receive the ARN itself.

locals {
  app_secrets = {
    "openai-api-key" = "OpenAI API key used by the image worker (OPENAI_API_KEY)."
    "signing-keys"   = "Ed25519 signing key ring of the token issuer (ATELIER_KEYSTORE_SECRET_ID), written by `atelier keys rotate`."
  }
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:Not rotatable by Secrets Manager: the OpenAI key is issued by OpenAI (rotated by hand, docs/deploy.md); the signing key ring is rotated by the scheduled `atelier keys rotate` task.
  for_each                = local.app_secrets
  name                    = "${var.name}/${each.key}"
  description             = each.value
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
  tags                    = var.tags
}

resource "aws_ssm_parameter" "app_secret_arn" {
  #checkov:skip=CKV2_AWS_34:The value is an ARN, not a secret; the secret itself is in Secrets Manager under the CMK.
  for_each    = aws_secretsmanager_secret.app
  name        = "/atelier/${var.environment}/secrets/${each.key}"
  description = "ARN of the Secrets Manager secret ${each.value.name}"
  type        = "String"
  value       = each.value.arn
  tags        = var.tags
}
