# Who may talk to whom, in one place. Every workload has its own security group; the data
# tier accepts connections only from the workloads that need it.
#
#   CloudFront --443/80--> ALB --8000--> mobile-api, admin-api, gateway, console
#   workloads --5432--> database      (mobile-api, admin-api, console, worker, jobs, lambda, bastion)
#   workloads --6379--> cache         (mobile-api, admin-api, console, gateway, worker)
#
# Only port 8000 is open to the ALB. Each task's metrics port (9464) is read by the ADOT
# collector beside it over localhost: no rule opens it, no target group names it.
#   workloads --443---> AWS APIs (VPC endpoints), OpenAI and Cognito (NAT)

# The ALB accepts CloudFront's origin-facing addresses only. The managed prefix list
# counts as ~55 rules against the per-group quota of 60, so HTTPS and HTTP (the redirect
# listener) each get a security group of their own.
data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

locals {
  workloads = {
    "mobile-api" = { description = "Mobile API tasks", from_alb = true, database = true, cache = true }
    "admin-api"  = { description = "Admin API tasks", from_alb = true, database = true, cache = true }
    "console"    = { description = "Web console tasks", from_alb = true, database = true, cache = true }
    "gateway"    = { description = "Edge WebSocket gateway tasks", from_alb = true, database = false, cache = true }
    "worker"     = { description = "Image worker tasks", from_alb = false, database = true, cache = true }
    "jobs"       = { description = "One-off and scheduled tasks (migrate, keys rotate, guests purge)", from_alb = false, database = true, cache = false }
    "lambda"     = { description = "Cognito trigger Lambda functions", from_alb = false, database = true, cache = false }
    "bastion"    = { description = "Bastion host (SSM Session Manager only, no inbound)", from_alb = false, database = true, cache = false }
  }

  http_workloads     = { for k, v in local.workloads : k => v if v.from_alb }
  database_workloads = { for k, v in local.workloads : k => v if v.database }
  cache_workloads    = { for k, v in local.workloads : k => v if v.cache }
}

# ---------------------------------------------------------------------------------------
# ALB

resource "aws_security_group" "alb_https" {
  #checkov:skip=CKV2_AWS_5:Attached to the ALB in modules/edge through the alb_security_group_ids output; checkov does not follow references across modules.
  name        = "${var.name}-alb-https"
  description = "ALB HTTPS listener: CloudFront origin-facing addresses only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-alb-https" })
}

resource "aws_vpc_security_group_ingress_rule" "alb_https_from_cloudfront" {
  security_group_id = aws_security_group.alb_https.id
  description       = "HTTPS from CloudFront origin-facing servers"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
}

resource "aws_security_group" "alb_http" {
  #checkov:skip=CKV2_AWS_5:Attached to the ALB in modules/edge through the alb_security_group_ids output; checkov does not follow references across modules.
  name        = "${var.name}-alb-http"
  description = "ALB HTTP listener (redirects to HTTPS): CloudFront origin-facing addresses only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-alb-http" })
}

resource "aws_vpc_security_group_ingress_rule" "alb_http_from_cloudfront" {
  #checkov:skip=CKV_AWS_260:The source is the CloudFront origin-facing prefix list, not 0.0.0.0/0; port 80 only answers a redirect to HTTPS.
  security_group_id = aws_security_group.alb_http.id
  description       = "HTTP from CloudFront origin-facing servers (redirected to HTTPS)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
}

resource "aws_vpc_security_group_egress_rule" "alb_to_targets" {
  for_each                     = local.http_workloads
  security_group_id            = aws_security_group.alb_https.id
  description                  = "To ${each.key} targets on 8000"
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
  referenced_security_group_id = aws_security_group.workload[each.key].id
}

# ---------------------------------------------------------------------------------------
# Workloads

resource "aws_security_group" "workload" {
  #checkov:skip=CKV2_AWS_5:Attached to ECS services, tasks, Lambda and the bastion in modules/compute and modules/identity through module outputs; checkov does not follow references across modules.
  for_each    = local.workloads
  name        = "${var.name}-${each.key}"
  description = each.value.description
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_vpc_security_group_ingress_rule" "workload_from_alb" {
  for_each                     = local.http_workloads
  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "HTTP 8000 from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
  referenced_security_group_id = aws_security_group.alb_https.id
}

resource "aws_vpc_security_group_egress_rule" "workload_https" {
  for_each          = local.workloads
  security_group_id = aws_security_group.workload[each.key].id
  description       = "HTTPS to AWS APIs (VPC endpoints) and external APIs (NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "workload_database" {
  for_each                     = local.database_workloads
  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_vpc_security_group_egress_rule" "workload_cache" {
  for_each                     = local.cache_workloads
  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "Redis (TLS)"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = aws_security_group.cache.id
}

# ---------------------------------------------------------------------------------------
# Data tier: no egress at all, ingress from the listed workloads only.

resource "aws_security_group" "database" {
  #checkov:skip=CKV2_AWS_5:Attached to the RDS instance in modules/data through the database_security_group_id output; checkov does not follow references across modules.
  name        = "${var.name}-database"
  description = "RDS PostgreSQL: 5432 from the workloads that use it"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-database" })
}

resource "aws_vpc_security_group_ingress_rule" "database" {
  for_each                     = local.database_workloads
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.workload[each.key].id
}

resource "aws_security_group" "cache" {
  #checkov:skip=CKV2_AWS_5:Attached to the ElastiCache replication group in modules/data through the cache_security_group_id output; checkov does not follow references across modules.
  name        = "${var.name}-cache"
  description = "ElastiCache Redis: 6379 from the workloads that use it"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-cache" })
}

resource "aws_vpc_security_group_ingress_rule" "cache" {
  for_each                     = local.cache_workloads
  security_group_id            = aws_security_group.cache.id
  description                  = "Redis from ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = aws_security_group.workload[each.key].id
}
