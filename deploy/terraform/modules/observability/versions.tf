terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
      # WAF on CloudFront publishes its metrics in us-east-1: its alarm lives there.
      configuration_aliases = [aws.us_east_1]
    }
  }
}
