# terraform init -backend-config=backend.hcl
bucket = "atelier-tfstate-222222222222"
key    = "atelier/prod/terraform.tfstate"
region = "ap-northeast-1"
# encrypt without kms_key_id makes the backend send "x-amz-server-side-encryption: AES256"
# with every write, which overrides the bucket's default: the state would be SSE-S3, not
# the bootstrap's key. Name the key (bootstrap output state_kms_key_alias_arn).
encrypt      = true
kms_key_id   = "arn:aws:kms:ap-northeast-1:222222222222:alias/atelier-tfstate"
use_lockfile = true
