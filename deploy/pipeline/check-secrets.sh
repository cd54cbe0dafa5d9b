#!/usr/bin/env bash
# check-secrets.sh: every secret the services reference exists and has a current value.
# Parameter Store holds each secret's ARN; DescribeSecret returns metadata only: the
# pipeline never reads a secret (ECS injects them into the containers at start).
# signing-keys is empty on a fresh environment: the deploy then runs `atelier keys rotate`
# once before the roll (docs/deploy.md, "First signing key").
source "$(dirname "$0")/lib.sh"
config '.secret_arn_parameters | to_entries[] | "\(.key) \(.value)"' |
while read -r name parameter; do
  arn="$(aws ssm get-parameter --name "$parameter" --query Parameter.Value --output text)"
  current="$(aws secretsmanager describe-secret --secret-id "$arn" \
    --query VersionIdsToStages --output json |
    jq '[.[]? | select(index("AWSCURRENT"))] | length')"
  if [ "$current" = "0" ] && [ "$name" = "signing-keys" ]; then
    echo "$name: empty, the first key is created before the services roll"
    touch "${RUNNER_TEMP:-/tmp}/needs-first-key"
  elif [ "$current" = "0" ]; then
    echo "::error::secret $name ($arn) has no value: see docs/deploy.md"
    exit 1
  fi
  echo "$name: $arn"
done
