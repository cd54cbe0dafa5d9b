#!/usr/bin/env bash
# run-task.sh TASK: runs the revision just registered of a one-off task family (migrate:
# `atelier db upgrade`; keys-rotate: `atelier keys rotate`) and waits for it, at most
# TASK_TIMEOUT_SECONDS (default 30 min; `aws ecs wait tasks-stopped` stops at 10). Fails
# unless the container exits 0. Migrations are expand-only (docs/deploy.md): the running
# services keep working against the new schema until they roll.
source "$(dirname "$0")/lib.sh"
name="$1"
cluster="$(config .cluster)"
definition="$(awk -v t="$name" '$1 == t {print $2}' "${RUNNER_TEMP:-/tmp}/revisions.txt")"
subnets="$(config '.subnets | join(",")')"
security_group="$(config .jobs_security_group)"
task="$(aws ecs run-task --cluster "$cluster" --task-definition "$definition" \
  --launch-type FARGATE --started-by "github-${GITHUB_RUN_ID:-manual}" \
  --network-configuration "awsvpcConfiguration={subnets=[${subnets}],securityGroups=[${security_group}],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)"
echo "$name task: $task"

stopped() {
  [ "$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
    --query 'tasks[0].lastStatus' --output text)" = "STOPPED" ]
}
until_deadline "${TASK_TIMEOUT_SECONDS:-1800}" "${POLL_SECONDS:-10}" stopped || {
  aws ecs stop-task --cluster "$cluster" --task "$task" --reason "pipeline timeout" >/dev/null
  exit 1
}

# The application container is named after the task; the collector beside it is not.
code="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
  --query "tasks[0].containers[?name=='${name}'] | [0].exitCode" --output text)"
log_group="$(config .migrate_log_group)"
aws logs filter-log-events --log-group-name "${log_group%/migrate}/${name}" \
  --log-stream-name-prefix "ecs/${name}/${task##*/}" --query 'events[].message' \
  --output text || true
if [ "$code" != "0" ]; then
  echo "::error::$name failed (exit code $code); services were not rolled"
  exit 1
fi
