#!/usr/bin/env bash
# Writes the deploy configuration of $ENVIRONMENT (Parameter Store) to $CONFIG.
source "$(dirname "$0")/lib.sh"
aws ssm get-parameter --name "/atelier/${ENVIRONMENT}/deploy/config" \
  --query Parameter.Value --output text > "$CONFIG"
jq . "$CONFIG"
