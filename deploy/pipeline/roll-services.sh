#!/usr/bin/env bash
# roll-services.sh: points every service at the revision just registered and waits until
# each deployment completes (ROLL_TIMEOUT_SECONDS, default 45 min). A deployment the
# circuit breaker fails (and rolls back) fails the pipeline: `aws ecs wait services-stable`
# would call a rolled-back service "stable" and let the pipeline publish the tag.
source "$(dirname "$0")/lib.sh"
cluster="$(config .cluster)"
revisions="${RUNNER_TEMP:-/tmp}/revisions.txt"
declare -A wanted
while read -r task service; do
  definition="$(awk -v t="$task" '$1 == t {print $2}' "$revisions")"
  aws ecs update-service --cluster "$cluster" --service "$service" \
    --task-definition "$definition" --query service.taskDefinition --output text
  wanted["$service"]="$definition"
done < <(config '.services | to_entries[] | "\(.key) \(.value)"')

# 0: every service runs its new revision; 2: one was rolled back; 1: still rolling.
rolled() {
  local service primary state
  for service in "${!wanted[@]}"; do
    read -r primary state < <(aws ecs describe-services --cluster "$cluster" --services "$service" \
      --query 'services[0].deployments[?status==`PRIMARY`] | [0].[taskDefinition, rolloutState]' \
      --output text)
    if [ "$primary" != "${wanted[$service]}" ] || [ "$state" = "FAILED" ]; then
      echo "::error::$service: deployment of ${wanted[$service]} failed and was rolled back"
      return 2
    fi
    if [ "$state" != "COMPLETED" ]; then
      echo "$service: $state"
      return 1
    fi
  done
}
until_deadline "${ROLL_TIMEOUT_SECONDS:-2700}" "${POLL_SECONDS:-15}" rolled
