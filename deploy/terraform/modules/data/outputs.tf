output "database_url_secret_arn" {
  description = "ARN of the DATABASE_URL secret."
  value       = aws_secretsmanager_secret.connection["database-url"].arn
}

output "redis_url_secret_arn" {
  description = "ARN of the REDIS_URL secret."
  value       = aws_secretsmanager_secret.connection["redis-url"].arn
}

output "refresh_token_secret_arn" {
  description = "ARN of the secret sealing refresh tokens (ATELIER_REFRESH_TOKEN_SECRET)."
  value       = aws_secretsmanager_secret.connection["refresh-token-secret"].arn
}

output "secret_arn_parameters" {
  description = "Parameter Store names holding the ARN of each connection secret, by secret name."
  value       = { for k, p in aws_ssm_parameter.connection_secret_arn : k => p.name }
}

output "db_instance_identifier" {
  description = "RDS instance identifier (CloudWatch dimension)."
  value       = aws_db_instance.this.identifier
}

output "db_address" {
  description = "RDS endpoint host name (bastion port forwarding)."
  value       = aws_db_instance.this.address
}

output "cache_replication_group_id" {
  description = "ElastiCache replication group id."
  value       = aws_elasticache_replication_group.this.id
}

# ElastiCache publishes host and engine metrics per node, with the dimension
# CacheClusterId = the member cluster; the members of a replication group (cluster mode
# disabled) are named <replication_group_id>-001, -002, ... Computed here rather than read
# from member_clusters (known only after apply) so that alarms can for_each over them.
# (replication_group_id is var.name.)
output "cache_cluster_ids" {
  description = "Member cluster ids of the replication group (CloudWatch dimension CacheClusterId)."
  value       = [for i in range(1, var.cache_nodes + 1) : format("%s-%03d", var.name, i)]
}

output "images_bucket_name" {
  description = "Name of the images bucket (ATELIER_S3_BUCKET)."
  value       = aws_s3_bucket.images.id
}

output "images_bucket_arn" {
  description = "ARN of the images bucket."
  value       = aws_s3_bucket.images.arn
}
