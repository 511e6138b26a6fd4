# Dagster on ECS Fargate, in the catalog's cluster and private subnets, all
# from var.dagster_image: the code server (gRPC :4000, found by the others
# through Cloud Map), the daemon (schedules, sensors, the run queue; exactly
# one) and the webserver (behind an internal ALB, dagster_web.tf). Each run is
# its own ECS task on the run task definition (EcsRunLauncher in
# dagster/deploy/aws/dagster.yaml), so concurrent runs add tasks instead of
# sharing the code server. Every Dagster task runs as the writer role; storage
# is RDS Postgres (dagster_storage.tf). Nothing here exists when
# enable_dagster = false.

locals {
  dagster = var.enable_dagster

  # The instance and workspace of deployments (dagster/deploy/aws/, not the
  # local stack's dagster/dagster.yaml) are written to DAGSTER_HOME by the
  # entrypoint, so the image is the same everywhere and a change to those
  # files shows in the plan like an image change.
  dagster_home       = "/tmp/dagster-home"
  dagster_workspace  = "${local.dagster_home}/workspace.yaml"
  dagster_entrypoint = ["/bin/sh", "-c", file("${path.module}/../dagster/deploy/entrypoint.sh"), "dagster-entrypoint"]

  dagster_code_port      = 4000
  dagster_webserver_port = 3000
  dagster_db_name        = "dagster"
  dagster_db_user        = "dagster"

  # The compose file's health checks (dagster/docker-compose.yaml;
  # tests/infra compares them), as ECS container health checks.
  dagster_health = {
    code_server = ["CMD", "dagster", "api", "grpc-health-check", "-p", "4000"]
    webserver   = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/server_info', timeout=5)"]
    daemon      = ["CMD", "dagster-daemon", "liveness-check"]
  }

  dagster_services = {
    code_server = {
      command  = ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", tostring(local.dagster_code_port), "-m", "lakehouse.definitions", "--location-name", "lakehouse"]
      port     = local.dagster_code_port
      cpu      = var.dagster_code_server_cpu_units
      memory   = var.dagster_code_server_memory_mib
      interval = 15, timeout = 10, retries = 10, start = 30
    }
    daemon = {
      command  = ["dagster-daemon", "run", "-w", local.dagster_workspace]
      port     = null
      cpu      = var.dagster_daemon_cpu_units
      memory   = var.dagster_daemon_memory_mib
      interval = 30, timeout = 15, retries = 5, start = 60
    }
    webserver = {
      command  = ["dagster-webserver", "-h", "0.0.0.0", "-p", tostring(local.dagster_webserver_port), "-w", local.dagster_workspace]
      port     = local.dagster_webserver_port
      cpu      = var.dagster_webserver_cpu_units
      memory   = var.dagster_webserver_memory_mib
      interval = 15, timeout = 10, retries = 10, start = 30
    }
  }

  # Fargate has no task below 2 GiB per vCPU: the guide's 2 vCPU / 2 GB runs
  # as 2 vCPU / 4 GB (GCP runs the size as given).
  dagster_fargate_memory = merge(
    { for role, s in local.dagster_services : role => max(s.memory, s.cpu * 2) },
    { run = max(var.dagster_run_memory_mib, var.dagster_run_cpu_units * 2) },
  )

  dagster_run_family = "${local.name_prefix}-dagster-run"
  dagster_code_host  = "dagster-code.${local.name_prefix}.internal"

  # Settings of the lakehouse code (the environment's dagster/.env.<env>
  # keys that come from this root); output dagster_env, read by the
  # pipeline's RuntimeEnv.
  dagster_env = {
    LAKEHOUSE_ENVIRONMENT     = var.environment
    ICEBERG_CATALOG_URI       = local.catalog_uri
    ICEBERG_WAREHOUSE         = "s3://${local.bucket_name}/${local.warehouse_prefix}"
    ICEBERG_CATALOG_WAREHOUSE = local.warehouse_prefix
    LAKEHOUSE_S3_BUCKET       = local.bucket_name
    AWS_REGION                = var.aws_region
    S3_PATH_STYLE             = "false"
    ALERT_SNS_TOPIC_ARN       = var.enable_alerting ? local.alarm_topic_arn : ""
  }

  # What only the deployed runtime sets: the policy of the environment from
  # its tfvars, and the instance (storage, run launcher, compute logs).
  dagster_runtime_env = merge(local.dagster_env, {
    LAKEHOUSE_ACCESS_LEVEL          = var.dagster_access_level
    LAKEHOUSE_ALERTING_ENABLED      = tostring(var.enable_alerting)
    LAKEHOUSE_DEPLOYED              = "true"
    DAGSTER_HOME                    = local.dagster_home
    DAGSTER_INSTANCE_YAML           = file("${path.module}/../dagster/deploy/aws/dagster.yaml")
    DAGSTER_WORKSPACE_YAML          = file("${path.module}/../dagster/deploy/aws/workspace.yaml")
    DAGSTER_CODE_SERVER_HOST        = local.dagster_code_host
    DAGSTER_CURRENT_IMAGE           = coalesce(var.dagster_image, "none")
    DAGSTER_ECS_RUN_TASK_DEFINITION = local.dagster_run_family
    DAGSTER_COMPUTE_LOGS_BUCKET     = local.bucket_name
    DAGSTER_COMPUTE_LOGS_PREFIX     = "dagster/compute-logs"
    DAGSTER_POSTGRES_HOST           = try(aws_db_instance.dagster[0].address, "")
    DAGSTER_POSTGRES_DB             = local.dagster_db_name
    DAGSTER_POSTGRES_USER           = local.dagster_db_user
  })

  # One container definition per role (keys without a value are left out);
  # the run task's container is named "run" (EcsRunLauncher's
  # container_name) and gets its command from the launcher.
  dagster_containers = {
    for role, s in merge(local.dagster_services, { run = { command = null, port = null, interval = null, timeout = null, retries = null, start = null } }) : role => {
      for k, v in {
        name             = role == "run" ? "run" : "dagster"
        image            = var.dagster_image
        essential        = true
        entryPoint       = local.dagster_entrypoint
        command          = s.command
        portMappings     = s.port == null ? null : [{ containerPort = s.port, protocol = "tcp" }]
        environment      = [for k, v in local.dagster_runtime_env : { name = k, value = v }]
        secrets          = [{ name = "DAGSTER_POSTGRES_PASSWORD", valueFrom = "${local.dagster_db_secret_arn}:password::" }]
        stopTimeout      = 60
        healthCheck      = role == "run" ? null : { command = local.dagster_health[role], interval = s.interval, timeout = s.timeout, retries = s.retries, startPeriod = s.start }
        logConfiguration = { logDriver = "awslogs", options = { awslogs-group = "/ecs/${local.name_prefix}-dagster", awslogs-region = var.aws_region, awslogs-stream-prefix = replace(role, "_", "-") } }
      } : k => v if v != null
    }
  }
}

resource "aws_cloudwatch_log_group" "dagster" {
  count             = local.dagster ? 1 : 0
  name              = "/ecs/${local.name_prefix}-dagster"
  retention_in_days = var.log_retention_days
}

resource "aws_service_discovery_private_dns_namespace" "dagster" {
  count       = local.dagster ? 1 : 0
  name        = "${local.name_prefix}.internal"
  description = "Dagster services of ${local.name_prefix}"
  vpc         = aws_vpc.main.id
}

resource "aws_service_discovery_service" "dagster_code" {
  count = local.dagster ? 1 : 0
  name  = "dagster-code"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.dagster[0].id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_task_definition" "dagster" {
  for_each                 = local.dagster ? local.dagster_services : {}
  family                   = "${local.name_prefix}-dagster-${replace(each.key, "_", "-")}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = local.dagster_fargate_memory[each.key]
  execution_role_arn       = aws_iam_role.dagster_execution[0].arn
  task_role_arn            = aws_iam_role.dagster["writer"].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([local.dagster_containers[each.key]])

  depends_on = [aws_cloudwatch_log_group.dagster]
}

# The task definition EcsRunLauncher starts for every run (by family: ECS
# takes its latest revision, the one with the release's image).
resource "aws_ecs_task_definition" "dagster_run" {
  count                    = local.dagster ? 1 : 0
  family                   = local.dagster_run_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.dagster_run_cpu_units
  memory                   = local.dagster_fargate_memory["run"]
  execution_role_arn       = aws_iam_role.dagster_execution[0].arn
  task_role_arn            = aws_iam_role.dagster["writer"].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([local.dagster_containers["run"]])

  depends_on = [aws_cloudwatch_log_group.dagster]
}

resource "aws_ecs_service" "dagster" {
  for_each                          = local.dagster ? local.dagster_services : {}
  name                              = "${local.name_prefix}-dagster-${replace(each.key, "_", "-")}"
  cluster                           = aws_ecs_cluster.catalog.id
  task_definition                   = aws_ecs_task_definition.dagster[each.key].arn
  launch_type                       = "FARGATE"
  desired_count                     = 1
  propagate_tags                    = "SERVICE"
  health_check_grace_period_seconds = each.key == "webserver" ? 120 : null
  # Exactly one daemon: the old task stops before the new one starts.
  deployment_minimum_healthy_percent = each.key == "daemon" ? 0 : 100
  deployment_maximum_percent         = each.key == "daemon" ? 100 : 200

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.dagster_tasks[0].id]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = each.key == "webserver" ? [1] : []
    content {
      target_group_arn = aws_lb_target_group.dagster[0].arn
      container_name   = "dagster"
      container_port   = local.dagster_webserver_port
    }
  }

  dynamic "service_registries" {
    for_each = each.key == "code_server" ? [1] : []
    content {
      registry_arn = aws_service_discovery_service.dagster_code[0].arn
    }
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.dagster_http, aws_iam_role_policy.dagster_runtime]
}
