#!/usr/bin/env bash
# check-images.sh TAG: prints the image targets of TAG missing from ECR (none: exit 0).
# With --require, a missing image is an error (a rollback can only use existing images).
source "$(dirname "$0")/lib.sh"
tag="$1"
require="${2:-}"
repository="$(config .ecr_repository)"
missing=()
for target in mobile-api admin-api gateway console worker migrate; do
  if ! aws ecr describe-images --repository-name "${repository#*/}" \
      --image-ids "imageTag=${target}-${tag}" >/dev/null 2>&1; then
    missing+=("$target")
  fi
done
printf '%s\n' "${missing[@]}"
if [ "$require" = "--require" ] && [ "${#missing[@]}" -gt 0 ]; then
  echo "::error::no image ${tag} in ECR for: ${missing[*]}"
  exit 1
fi
