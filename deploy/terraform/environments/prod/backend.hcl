# terraform init -backend-config=backend.hcl
bucket       = "atelier-tfstate-222222222222"
key          = "atelier/prod/terraform.tfstate"
region       = "ap-northeast-1"
encrypt      = true
use_lockfile = true
