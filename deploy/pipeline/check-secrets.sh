#!/usr/bin/env bash
# check-secrets.sh: every secret the services reference exists and has a current value.
# Parameter Store holds each secret's ARN; DescribeSecret returns metadata only: the
# pipeline never reads a secret (ECS injects them into the containers at start).
# signing-keys may be empty on a fresh environment: the first key ring is written by the
# application itself (docs/deploy.md, "First signing key").
source "$(dirname "$0")/lib.sh"
config '.secret_arn_parameters | to_entries[] | "\(.key) \(.value)"' |
while read -r name parameter; do
  arn="$(aws ssm get-parameter --name "$parameter" --query Parameter.Value --output text)"
  current="$(aws secretsmanager describe-secret --secret-id "$arn" \
    --query VersionIdsToStages --output json |
    jq '[.[]? | select(index("AWSCURRENT"))] | length')"
  if [ "$current" = "0" ] && [ "$name" != "signing-keys" ]; then
    echo "::error::secret $name ($arn) has no value: see docs/deploy.md"
    exit 1
  fi
  echo "$name: $arn"
done
