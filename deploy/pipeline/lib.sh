# Shared by the pipeline scripts: the deploy configuration and a bounded wait.
# CONFIG: the JSON of /atelier/<env>/deploy/config (written by read-config.sh).
set -euo pipefail

CONFIG="${CONFIG:-${RUNNER_TEMP:-/tmp}/config.json}"

config() { jq -r "$1" "$CONFIG"; }

# until_deadline SECONDS INTERVAL COMMAND...: runs COMMAND every INTERVAL seconds until it
# exits 0 (done) or 2 (failed for good), or SECONDS pass. `aws ecs wait` gives up after
# 10 minutes and cannot be configured; a first deployment or a slow migration takes longer.
until_deadline() {
  local seconds="$1" interval="$2" deadline status
  shift 2
  deadline=$(( $(date +%s) + seconds ))
  while true; do
    status=0
    "$@" || status=$?
    case "$status" in
      0) return 0 ;;
      2) return 1 ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "::error::gave up after ${seconds}s: $*"
      return 1
    fi
    sleep "$interval"
  done
}

# target_of TASK: the image target a task family runs (the jobs share the migrate image).
target_of() {
  case "$1" in
    mobile-api|admin-api|gateway|console|worker) echo "$1" ;;
    *) echo "migrate" ;;
  esac
}
