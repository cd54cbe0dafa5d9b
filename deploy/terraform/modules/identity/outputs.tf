output "user_pool_id" {
  description = "Cognito user pool id (ATELIER_COGNITO_USER_POOL_ID)."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "Cognito user pool ARN (IAM policies of the APIs)."
  value       = aws_cognito_user_pool.this.arn
}

output "mobile_client_id" {
  description = "App client of the mobile API (ATELIER_COGNITO_CLIENT_ID)."
  value       = aws_cognito_user_pool_client.mobile.id
}

output "admin_client_id" {
  description = "App client of admin tools calling the admin API (SRP)."
  value       = aws_cognito_user_pool_client.admin.id
}

output "console_client_id" {
  description = "App client of the web console (hosted UI, authorization code with PKCE)."
  value       = aws_cognito_user_pool_client.console.id
}

output "hosted_ui_url" {
  description = "Base URL of the pool's hosted UI (ATELIER_CONSOLE_COGNITO_DOMAIN)."
  value       = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.name}.amazoncognito.com"
}

output "issuer" {
  description = "Issuer of the pool's tokens (ATELIER_ADMIN_COGNITO_ISSUER)."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "jwks_url" {
  description = "JWKS of the pool (ATELIER_ADMIN_COGNITO_JWKS_URL)."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}/.well-known/jwks.json"
}

output "trigger_function_names" {
  description = "Lambda function names of the triggers, by trigger (the pipeline updates their code)."
  value       = { for k, f in aws_lambda_function.trigger : k => f.function_name }
}

output "trigger_function_arns" {
  description = "Lambda function ARNs of the triggers, by trigger."
  value       = { for k, f in aws_lambda_function.trigger : k => f.arn }
}
