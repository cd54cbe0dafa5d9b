# WAF on the CloudFront distribution (scope CLOUDFRONT, hence us-east-1). Rules, in order:
#   0 admin-ip-allow-list   block /v1/api/admin* unless the viewer IP is in the admin set
#   1 rate-limit-per-ip     block an IP above rate_limit_per_5_minutes
#   2 AWS common rule set   (OWASP-style: XSS, LFI, bad bots...)
#   3 AWS known bad inputs  (Log4Shell, Java deserialisation...)
#   4 AWS SQL injection
#   5 console-ip-allow-list block every path outside the public API (/v1/api*, /.well-known/*,
#                           /v1/realtime*) unless the viewer IP is in the admin set: the
#                           web console, the ALB's default route, is for administrators

resource "aws_wafv2_ip_set" "admin" {
  provider           = aws.us_east_1
  name               = "${var.name}-admin-allow-list"
  description        = "Addresses allowed to reach the admin API"
  scope              = "CLOUDFRONT"
  ip_address_version = "IPV4"
  addresses          = var.admin_allowed_cidrs
  tags               = var.tags
}

resource "aws_wafv2_web_acl" "this" {
  provider    = aws.us_east_1
  name        = var.name
  description = "Atelier API edge protection"
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  rule {
    name     = "admin-ip-allow-list"
    priority = 0

    action {
      block {}
    }

    statement {
      and_statement {
        statement {
          byte_match_statement {
            search_string         = "/v1/api/admin"
            positional_constraint = "STARTS_WITH"

            field_to_match {
              uri_path {}
            }

            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }

        statement {
          not_statement {
            statement {
              ip_set_reference_statement {
                arn = aws_wafv2_ip_set.admin.arn
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-admin-ip-allow-list"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 1

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.rate_limit_per_5_minutes
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-limit-per-ip"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-common"
    priority = 2

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-aws-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-known-bad-inputs"
    priority = 3

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-aws-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-sqli"
    priority = 4

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesSQLiRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-aws-sqli"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "console-ip-allow-list"
    priority = 5

    action {
      block {}
    }

    statement {
      and_statement {
        statement {
          not_statement {
            statement {
              or_statement {
                dynamic "statement" {
                  for_each = ["/v1/api", "/.well-known/", "/v1/realtime"]

                  content {
                    byte_match_statement {
                      search_string         = statement.value
                      positional_constraint = "STARTS_WITH"

                      field_to_match {
                        uri_path {}
                      }

                      text_transformation {
                        priority = 0
                        type     = "NONE"
                      }
                    }
                  }
                }
              }
            }
          }
        }

        statement {
          not_statement {
            statement {
              ip_set_reference_statement {
                arn = aws_wafv2_ip_set.admin.arn
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-console-ip-allow-list"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

# WAF logs must go to a log group named aws-waf-logs-* in us-east-1; the environment's
# CMK is regional, so this group uses CloudWatch's default encryption. Authorization
# headers and query strings (realtime tokens) are redacted before logging.
resource "aws_cloudwatch_log_group" "waf" {
  #checkov:skip=CKV_AWS_158:The CMK lives in the environment's region and cannot encrypt a us-east-1 log group; CloudWatch Logs encrypts at rest by default and secrets are redacted.
  provider          = aws.us_east_1
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.waf_log_retention_days
  tags              = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  provider                = aws.us_east_1
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  redacted_fields {
    query_string {}
  }

  redacted_fields {
    single_header {
      name = lower(local.origin_header)
    }
  }
}
