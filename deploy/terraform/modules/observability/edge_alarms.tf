# WAF on CloudFront publishes its metrics in us-east-1, and an alarm reads metrics of its
# own region and notifies topics of its own region: the WAF alarm, its topic and the key
# encrypting that topic live in us-east-1, subscribed to by the same people.

resource "aws_kms_key" "edge_alarms" {
  provider                = aws.us_east_1
  description             = "${var.name}: alarm topic in us-east-1 (WAF)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.edge_alarms_key.json
  tags                    = var.tags
}

data "aws_iam_policy_document" "edge_alarms_key" {
  #checkov:skip=CKV_AWS_109:Key policy: Resource "*" means this key only; the account-root statement is the AWS default that delegates use of the key to IAM policies.
  #checkov:skip=CKV_AWS_111:Key policy: Resource "*" means this key only (AWS default account-root statement).
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" means this key only (AWS default account-root statement).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch alarms publish to the encrypted topic.
  statement {
    sid       = "AlarmPublishers"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic" "edge_alarms" {
  provider          = aws.us_east_1
  name              = "${var.name}-edge-alarms"
  kms_master_key_id = aws_kms_key.edge_alarms.arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "edge_email" {
  provider  = aws.us_east_1
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.edge_alarms.arn
  protocol  = "email"
  endpoint  = each.key
}

resource "aws_sns_topic_subscription" "edge_https" {
  provider               = aws.us_east_1
  for_each               = toset(var.alarm_https_endpoints)
  topic_arn              = aws_sns_topic.edge_alarms.arn
  protocol               = "https"
  endpoint               = each.key
  endpoint_auto_confirms = false
}

resource "aws_cloudwatch_metric_alarm" "waf_blocked" {
  provider            = aws.us_east_1
  alarm_name          = "${var.name}-waf-blocked"
  alarm_description   = "WAF blocked more than ${var.waf_blocked_threshold} requests in 5 minutes: an attack, or a rule blocking real users (WAF logs: aws-waf-logs-${var.name})"
  namespace           = "AWS/WAFV2"
  metric_name         = "BlockedRequests"
  dimensions          = { WebACL = var.web_acl_name, Rule = "ALL" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.waf_blocked_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.edge_alarms.arn]
  ok_actions          = [aws_sns_topic.edge_alarms.arn]
  tags                = var.tags
}
