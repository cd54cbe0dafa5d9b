output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (ALB, NAT), one per AZ."
  value       = [for s in aws_subnet.public : s.id]
}

output "app_subnet_ids" {
  description = "Private application subnets (ECS tasks, Lambda, bastion), one per AZ."
  value       = [for s in aws_subnet.app : s.id]
}

output "data_subnet_ids" {
  description = "Private data subnets (RDS, ElastiCache), one per AZ."
  value       = [for s in aws_subnet.data : s.id]
}

output "endpoints_security_group_id" {
  description = "Security group of the interface VPC endpoints."
  value       = aws_security_group.endpoints.id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (for security group egress rules)."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}

output "alb_security_group_ids" {
  description = "Security groups of the ALB (HTTPS and HTTP listeners, CloudFront only)."
  value       = [aws_security_group.alb_https.id, aws_security_group.alb_http.id]
}

output "workload_security_group_ids" {
  description = "Security group of each workload (mobile-api, admin-api, console, gateway, worker, jobs, lambda, bastion)."
  value       = { for k, sg in aws_security_group.workload : k => sg.id }
}

output "database_security_group_id" {
  description = "Security group of the RDS instance."
  value       = aws_security_group.database.id
}

output "cache_security_group_id" {
  description = "Security group of the ElastiCache replication group."
  value       = aws_security_group.cache.id
}
