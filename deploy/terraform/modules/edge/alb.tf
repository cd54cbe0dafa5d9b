# ALB in the public subnets, reachable from CloudFront only (security groups: managed
# prefix list; listener rules: a secret origin header only our distribution sends).
# Path routing, first match wins, so the admin prefix must come before the mobile one:
#   10  /v1/api/admin*                -> admin-api
#   20  /v1/api*, /.well-known/*      -> mobile-api
#   30  /v1/realtime*                 -> gateway
#  100  everything else               -> console (the web console is the default route)
# Every rule also requires the secret origin header, so the console's catch-all is a rule
# and not the listener's default action: the default answers only requests that did not
# come through our CloudFront distribution (a JSON 404, as before).

locals {
  http_services = toset(["mobile-api", "admin-api", "gateway", "console"])
  origin_header = "X-Atelier-Origin-Verify"
}

resource "random_password" "origin_header" {
  length  = 48
  special = false
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:The ALB accepts CloudFront's origin-facing addresses only (security groups) plus a secret origin header; the WAF web ACL is attached to the CloudFront distribution in front of it.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = var.alb_security_group_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = true
  idle_timeout               = 300 # WebSocket connections idle between keepalive pings
  desync_mitigation_mode     = "strictest"

  access_logs {
    bucket  = var.logs_bucket_id
    prefix  = "alb"
    enabled = true
  }

  tags = var.tags
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS terminates at the ALB; ALB -> task traffic stays inside the private app subnets, restricted by security groups.
  for_each             = local.http_services
  name                 = substr("${var.name}-${each.key}", 0, 32)
  port                 = 8000
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = each.key == "gateway" ? var.gateway_deregistration_delay_seconds : 30

  # Readiness: /readyz fails while a dependency (database, bus subscription) is down, so
  # the ALB stops routing to the task without ECS killing it (liveness is /healthz).
  health_check {
    enabled             = true
    path                = "/readyz"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:This listener only redirects HTTP to HTTPS.
  #checkov:skip=CKV_AWS_103:This listener only redirects HTTP to HTTPS; TLS policy applies to the HTTPS listener.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.origin.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      status_code  = "404"
      message_body = jsonencode({ error = { code = "not_found", message = "No such route." } })
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "admin_api" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["admin-api"].arn
  }

  condition {
    path_pattern {
      values = ["/v1/api/admin*"]
    }
  }

  condition {
    http_header {
      http_header_name = local.origin_header
      values           = [random_password.origin_header.result]
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "mobile_api" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 20

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["mobile-api"].arn
  }

  condition {
    path_pattern {
      values = ["/v1/api*", "/.well-known/*"]
    }
  }

  condition {
    http_header {
      http_header_name = local.origin_header
      values           = [random_password.origin_header.result]
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "gateway" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 30

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["gateway"].arn
  }

  condition {
    path_pattern {
      values = ["/v1/realtime*"]
    }
  }

  condition {
    http_header {
      http_header_name = local.origin_header
      values           = [random_password.origin_header.result]
    }
  }

  tags = var.tags
}

# The default route: whatever no rule above claims is the web console's.
resource "aws_lb_listener_rule" "console" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 100

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["console"].arn
  }

  condition {
    path_pattern {
      values = ["/*"]
    }
  }

  condition {
    http_header {
      http_header_name = local.origin_header
      values           = [random_password.origin_header.result]
    }
  }

  tags = var.tags
}

resource "aws_route53_record" "origin" {
  zone_id = var.route53_zone_id
  name    = var.origin_domain_name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
