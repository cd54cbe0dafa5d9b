#!/usr/bin/env bash
# register-revisions.sh TAG: a new revision of every task family, with the images of TAG.
# Writes "<task> <task definition ARN>" lines to $RUNNER_TEMP/revisions.txt. Only the
# application container (named after the task) changes image; the collector beside it
# keeps the version Terraform pinned.
source "$(dirname "$0")/lib.sh"
tag="$1"
repository="$(config .ecr_repository)"
revisions="${RUNNER_TEMP:-/tmp}/revisions.txt"
: > "$revisions"
config '.task_families | to_entries[] | "\(.key) \(.value)"' | while read -r task family; do
  aws ecs describe-task-definition --task-definition "$family" --query taskDefinition |
    jq --arg image "${repository}:$(target_of "$task")-${tag}" --arg task "$task" '
      .containerDefinitions |= map(if .name == $task then .image = $image else . end)
      | del(.taskDefinitionArn, .revision, .status, .requiresAttributes,
            .compatibilities, .registeredAt, .registeredBy, .deregisteredAt)' \
    > "${RUNNER_TEMP:-/tmp}/$task.json"
  arn="$(aws ecs register-task-definition --cli-input-json "file://${RUNNER_TEMP:-/tmp}/$task.json" \
    --query taskDefinition.taskDefinitionArn --output text)"
  echo "$task $arn" | tee -a "$revisions"
done
