#!/usr/bin/env bash
# run-migrations.sh: `atelier db upgrade` as a one-off task of the revision just registered,
# waited for up to MIGRATION_TIMEOUT_SECONDS (default 30 min). Migrations are expand-only
# (docs/deploy.md): the running services keep working against the new schema.
source "$(dirname "$0")/lib.sh"
cluster="$(config .cluster)"
definition="$(awk '$1 == "migrate" {print $2}' "${RUNNER_TEMP:-/tmp}/revisions.txt")"
subnets="$(config '.subnets | join(",")')"
security_group="$(config .jobs_security_group)"
task="$(aws ecs run-task --cluster "$cluster" --task-definition "$definition" \
  --launch-type FARGATE --started-by "github-${GITHUB_RUN_ID:-manual}" \
  --network-configuration "awsvpcConfiguration={subnets=[${subnets}],securityGroups=[${security_group}],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)"
echo "migration task: $task"

stopped() {
  [ "$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
    --query 'tasks[0].lastStatus' --output text)" = "STOPPED" ]
}
until_deadline "${MIGRATION_TIMEOUT_SECONDS:-1800}" 10 stopped || {
  aws ecs stop-task --cluster "$cluster" --task "$task" --reason "pipeline timeout" >/dev/null
  exit 1
}

code="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
  --query 'tasks[0].containers[0].exitCode' --output text)"
aws logs filter-log-events --log-group-name "$(config .migrate_log_group)" \
  --log-stream-name-prefix "ecs/migrate/${task##*/}" --query 'events[].message' \
  --output text || true
if [ "$code" != "0" ]; then
  echo "::error::migrations failed (exit code $code); services were not rolled"
  exit 1
fi
