# ECS Fargate: one long-running service per deployable (mobile-api, admin-api, gateway,
# console, worker) and task families run on demand or on a schedule (migrate, keys-rotate,
# guests-purge, maintenance-run). Every task family has its own execution role (pulls the
# image, reads exactly its secrets) and its own task role (what the application may call).
# Every task also runs an ADOT collector beside the application (telemetry.tf): it scrapes
# the application's Prometheus metrics on localhost and receives its OTLP traces.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  http_services = toset(["mobile-api", "admin-api", "gateway", "console"])
  # Image tag suffix: published by the pipeline in Parameter Store (see image_tag below).
  # The provider fills `insecure_value` on read only when that argument is set (and
  # `value` otherwise), so the resource sets `insecure_value`: a plain, non-sensitive read.
  image_tag = aws_ssm_parameter.image_tag.insecure_value

  http_command = ["--host", "0.0.0.0", "--port", "8000"]

  # Non-secret configuration shared by every task.
  common_environment = {
    AWS_REGION                 = local.region
    ATELIER_PUBLIC_URL         = var.public_url
    ATELIER_ISSUER             = var.public_url
    ATELIER_TRUSTED_PROXY_HOPS = "2" # CloudFront -> ALB
    ATELIER_S3_BUCKET          = var.images_bucket_name
    ATELIER_SQS_QUEUE_URL      = var.queue_url
    ATELIER_SES_SENDER         = var.ses_sender
  }

  keystore_environment = {
    ATELIER_KEYSTORE           = "secretsmanager"
    ATELIER_KEYSTORE_SECRET_ID = var.signing_keys_secret_arn
  }

  # With the key ring in Secrets Manager, every node seals refresh tokens with one key.
  keystore_secrets = {
    ATELIER_REFRESH_TOKEN_SECRET = var.refresh_token_secret_arn
  }

  cognito_environment = {
    ATELIER_IDENTITY_PROVIDER    = "cognito"
    ATELIER_COGNITO_USER_POOL_ID = var.user_pool_id
    ATELIER_COGNITO_CLIENT_ID    = var.cognito_client_id
  }

  # Sign in with Apple and Google in the mobile API, each only when configured: the client
  # ids its ID tokens must be for, and for Apple the key that signs the client secret with
  # which a deleted account's Apple tokens are revoked (the .p8 PEM, an ECS secret). The
  # execution role reads exactly the task's secrets (iam.tf), so this one only when set.
  apple_environment = var.apple_sign_in == null ? {} : {
    ATELIER_APPLE_CLIENT_IDS = join(",", var.apple_sign_in.app_client_ids)
    ATELIER_APPLE_TEAM_ID    = var.apple_sign_in.team_id
    ATELIER_APPLE_KEY_ID     = var.apple_sign_in.key_id
  }
  apple_secrets = var.apple_sign_in == null ? {} : {
    ATELIER_APPLE_PRIVATE_KEY = var.apple_sign_in.private_key_secret_arn
  }
  google_environment = var.google_sign_in == null ? {} : {
    ATELIER_GOOGLE_CLIENT_IDS = join(",", var.google_sign_in.app_client_ids)
  }

  tasks = {
    "mobile-api" = {
      target   = "mobile-api"
      command  = concat(["serve", "mobile-api"], local.http_command)
      cpu      = var.services["mobile-api"].cpu
      memory   = var.services["mobile-api"].memory
      workload = "mobile-api"
      environment = merge(local.keystore_environment, local.cognito_environment, local.apple_environment, local.google_environment, {
        # Returned by POST /v1/api/realtime/token; WebSockets pass through CloudFront.
        ATELIER_REALTIME_URL = "${replace(var.public_url, "https://", "wss://")}/v1/realtime"
      })
      secrets = merge(local.keystore_secrets, local.apple_secrets, {
        DATABASE_URL = var.database_url_secret_arn
        REDIS_URL    = var.redis_url_secret_arn
      })
    }
    "admin-api" = {
      target   = "admin-api"
      command  = concat(["serve", "admin-api"], local.http_command)
      cpu      = var.services["admin-api"].cpu
      memory   = var.services["admin-api"].memory
      workload = "admin-api"
      environment = merge(local.keystore_environment, local.cognito_environment, {
        ATELIER_ADMIN_ALLOWED_CIDRS = join(",", var.admin_allowed_cidrs)
        # Admins sign in through the console's app client; their access tokens are
        # verified against the pool (without these the API falls back to local admins).
        ATELIER_ADMIN_AUTH               = "cognito"
        ATELIER_ADMIN_COGNITO_CLIENT_IDS = var.admin_cognito_client_id
        ATELIER_ADMIN_COGNITO_JWKS_URL   = var.cognito_jwks_url
        ATELIER_ADMIN_COGNITO_ISSUER     = var.cognito_issuer
      })
      secrets = merge(local.keystore_secrets, {
        DATABASE_URL = var.database_url_secret_arn
        REDIS_URL    = var.redis_url_secret_arn
      })
    }
    # The web console: the admin API's use cases behind server-rendered pages, the same
    # allow-list, admins signed in through the pool's hosted UI (code + PKCE).
    "console" = {
      target   = "console"
      command  = concat(["serve", "console"], local.http_command)
      cpu      = var.services["console"].cpu
      memory   = var.services["console"].memory
      workload = "console"
      environment = merge(local.keystore_environment, local.cognito_environment, {
        ATELIER_ADMIN_ALLOWED_CIDRS            = join(",", var.admin_allowed_cidrs)
        ATELIER_ADMIN_AUTH                     = "cognito"
        ATELIER_ADMIN_COGNITO_CLIENT_IDS       = var.console_cognito_client_id
        ATELIER_ADMIN_COGNITO_JWKS_URL         = var.cognito_jwks_url
        ATELIER_ADMIN_COGNITO_ISSUER           = var.cognito_issuer
        ATELIER_CONSOLE_COGNITO_DOMAIN         = var.cognito_hosted_ui_url
        ATELIER_CONSOLE_COGNITO_CLIENT_ID      = var.console_cognito_client_id
        ATELIER_CONSOLE_PUBLIC_URL             = var.public_url
        ATELIER_CONSOLE_SESSION_IDLE_MINUTES   = tostring(var.console_session_idle_minutes)
        ATELIER_CONSOLE_SESSION_ABSOLUTE_HOURS = tostring(var.console_session_absolute_hours)
      })
      secrets = merge(local.keystore_secrets, {
        DATABASE_URL = var.database_url_secret_arn
        REDIS_URL    = var.redis_url_secret_arn
      })
    }
    "gateway" = {
      target   = "gateway"
      command  = concat(["serve", "gateway"], local.http_command)
      cpu      = var.services["gateway"].cpu
      memory   = var.services["gateway"].memory
      workload = "gateway"
      environment = {
        # Through CloudFront (the ALB accepts nothing else); cached by the gateway.
        ATELIER_JWKS_URL = "${var.public_url}/.well-known/jwks.json"
        # Each node watches its own target (DescribeTargetHealth) and starts its paced drain
        # when the target turns `draining`: ECS sends SIGTERM only after the deregistration
        # delay, when the ALB has cut every socket still open.
        ATELIER_GATEWAY_TARGET_GROUP_ARN = var.target_group_arns["gateway"]
      }
      secrets = {
        REDIS_URL = var.redis_url_secret_arn
      }
    }
    "worker" = {
      target      = "worker"
      command     = ["worker"]
      cpu         = var.services["worker"].cpu
      memory      = var.services["worker"].memory
      workload    = "worker"
      environment = {}
      secrets = {
        DATABASE_URL   = var.database_url_secret_arn
        REDIS_URL      = var.redis_url_secret_arn
        OPENAI_API_KEY = var.openai_api_key_secret_arn
      }
    }
    "migrate" = {
      target      = "migrate"
      command     = ["db", "upgrade"]
      cpu         = var.job_cpu
      memory      = var.job_memory
      workload    = "jobs"
      environment = {}
      secrets = {
        DATABASE_URL = var.database_url_secret_arn
      }
    }
    "keys-rotate" = {
      target      = "migrate"
      command     = ["keys", "rotate"]
      cpu         = var.job_cpu
      memory      = var.job_memory
      workload    = "jobs"
      environment = local.keystore_environment
      secrets = merge(local.keystore_secrets, {
        DATABASE_URL = var.database_url_secret_arn
      })
    }
    "guests-purge" = {
      target      = "migrate"
      command     = ["guests", "purge"]
      cpu         = var.job_cpu
      memory      = var.job_memory
      workload    = "jobs"
      environment = {}
      secrets = {
        DATABASE_URL = var.database_url_secret_arn
      }
    }
    # Retention: batch deletes in the database only, so no task policy of its own.
    "maintenance-run" = {
      target      = "migrate"
      command     = ["maintenance", "run"]
      cpu         = var.job_cpu
      memory      = var.job_memory
      workload    = "jobs"
      environment = {}
      secrets = {
        DATABASE_URL = var.database_url_secret_arn
      }
    }
  }

  http_task_names  = [for k in keys(local.tasks) : k if contains(local.http_services, k)]
  other_task_names = [for k in keys(local.tasks) : k if !contains(local.http_services, k)]
}

# ---------------------------------------------------------------------------------------
# Registry and cluster

resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the most recent images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.ecr_keep_images
      }
      action = { type = "expire" }
    }]
  })
}

# The pipeline writes the tag suffix it rolled (the git SHA) here after each deploy, and
# a rollback points it back at an older one; new task definition revisions created by
# Terraform use it, so an apply never changes the running image. Terraform only sets the
# first value. `insecure_value`, not `value`: the tag is not secret, and `value` would
# leave `insecure_value` empty on read (provider: resourceParameterRead).
resource "aws_ssm_parameter" "image_tag" {
  #checkov:skip=CKV2_AWS_34:An image tag (git SHA) is not confidential.
  name           = "/atelier/${var.environment}/deploy/image-tag"
  description    = "Image tag suffix currently deployed (<target>-<suffix> in ECR)"
  type           = "String"
  insecure_value = var.initial_image_tag
  tags           = var.tags

  lifecycle {
    ignore_changes = [insecure_value]
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enhanced"
  }

  tags = var.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "task" {
  for_each          = local.tasks
  name              = "/ecs/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# ---------------------------------------------------------------------------------------
# Task definitions

locals {
  container_base = {
    for k, t in local.tasks : k => {
      # stopTimeout: SIGTERM -> SIGKILL. The gateway drains its sockets over
      # ATELIER_GATEWAY_DRAIN_SECONDS (30) and exits at most 40 s after: 120 (ECS's max) >= 70.
      name                   = k
      image                  = "${aws_ecr_repository.this.repository_url}:${t.target}-${local.image_tag}"
      essential              = true
      command                = t.command
      user                   = "10001:10001"
      readonlyRootFilesystem = true
      privileged             = false
      stopTimeout            = 120
      environment            = [for name, value in merge(local.common_environment, local.telemetry_environment, { OTEL_SERVICE_NAME = "atelier-${k}" }, t.environment) : { name = name, value = value }]
      secrets                = [for name, arn in t.secrets : { name = name, valueFrom = arn }]
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      linuxParameters        = { initProcessEnabled = true }
      dependsOn              = [{ containerName = local.collector_name, condition = "START" }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.task[k].name
          awslogs-region        = local.region
          awslogs-stream-prefix = "ecs"
        }
      }
    }
  }

  # HTTP services: port 8000 and a liveness check on /healthz (readiness is the ALB's).
  http_container_settings = {
    portMappings = [{ containerPort = 8000, protocol = "tcp", name = "http" }]
    healthCheck = {
      command     = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
  }

  # The application first (the pipeline and the tests find it by name), then its collector.
  container_definitions = merge(
    { for k in local.http_task_names : k => jsonencode([merge(local.container_base[k], local.http_container_settings), local.collector_container[k]]) },
    { for k in local.other_task_names : k => jsonencode([local.container_base[k], local.collector_container[k]]) },
  )
}

resource "aws_ecs_task_definition" "this" {
  for_each                 = local.tasks
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution[each.key].arn
  task_role_arn            = aws_iam_role.task[each.key].arn
  container_definitions    = local.container_definitions[each.key]

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root filesystem is read-only; /tmp is a task-local ephemeral volume.
  volume {
    name = "tmp"
  }

  tags = var.tags
}

# ---------------------------------------------------------------------------------------
# Services

resource "aws_ecs_service" "this" {
  for_each                           = var.services
  name                               = each.key
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this[each.key].arn
  desired_count                      = each.value.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  propagate_tags                     = "SERVICE"
  enable_ecs_managed_tags            = true
  enable_execute_command             = false
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = contains(local.http_services, each.key) ? 30 : null
  wait_for_steady_state              = false

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.app_subnet_ids
    security_groups  = [var.workload_security_group_ids[each.key]]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = contains(local.http_services, each.key) ? [var.target_group_arns[each.key]] : []

    content {
      target_group_arn = load_balancer.value
      container_name   = each.key
      container_port   = 8000
    }
  }

  tags = var.tags

  # The pipeline rolls new task definition revisions; autoscaling owns the task count.
  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}
