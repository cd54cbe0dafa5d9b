#!/usr/bin/env bash
# publish-tag.sh TAG: records TAG as the deployed one; later Terraform applies build their
# task definition revisions from it, so an apply never changes the running image.
source "$(dirname "$0")/lib.sh"
aws ssm put-parameter --name "$(config .image_tag_parameter)" --value "$1" --overwrite >/dev/null
echo "deployed image tag: $1"
