# terraform init -backend-config=backend.hcl
bucket       = "atelier-tfstate-111111111111"
key          = "atelier/dev/terraform.tfstate"
region       = "ap-northeast-1"
encrypt      = true
use_lockfile = true
