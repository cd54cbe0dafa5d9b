# Every image target of deploy/docker/Dockerfile in one build (the stages they share are
# built once). From the repository root:
#
#   docker buildx bake -f deploy/docker/docker-bake.hcl                 # all, tagged atelier:<target>-local
#   REPOSITORY=<ecr url> TAG=<git sha> docker buildx bake -f deploy/docker/docker-bake.hcl --push

variable "REPOSITORY" {
  default = "atelier"
}

variable "TAG" {
  default = "local"
}

group "default" {
  targets = ["mobile-api", "admin-api", "gateway", "console", "worker", "migrate"]
}

target "_base" {
  context    = "."
  dockerfile = "deploy/docker/Dockerfile"
  platforms  = ["linux/amd64"]
}

target "mobile-api" {
  inherits = ["_base"]
  target   = "mobile-api"
  tags     = ["${REPOSITORY}:mobile-api-${TAG}"]
}

target "admin-api" {
  inherits = ["_base"]
  target   = "admin-api"
  tags     = ["${REPOSITORY}:admin-api-${TAG}"]
}

target "gateway" {
  inherits = ["_base"]
  target   = "gateway"
  tags     = ["${REPOSITORY}:gateway-${TAG}"]
}

target "console" {
  inherits = ["_base"]
  target   = "console"
  tags     = ["${REPOSITORY}:console-${TAG}"]
}

target "worker" {
  inherits = ["_base"]
  target   = "worker"
  tags     = ["${REPOSITORY}:worker-${TAG}"]
}

target "migrate" {
  inherits = ["_base"]
  target   = "migrate"
  tags     = ["${REPOSITORY}:migrate-${TAG}"]
}
