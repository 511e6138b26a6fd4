# Iceberg REST catalog: Nessie on ECS Fargate behind an internal ALB.
# Clients use <scheme>://<alb>/iceberg/main (Iceberg REST, output
# catalog_uri); health is served by the Quarkus management interface on port
# 9000 (/q/health).

locals {
  # Nessie is configured through its documented property names, passed as
  # environment variables with the exact property name (as upstream compose
  # files do), which avoids the ambiguity of the UPPER_SNAKE form for map keys.
  catalog_properties = {
    "nessie.version.store.type"                           = "DYNAMODB2"
    "nessie.version.store.persist.dynamodb.table-prefix"  = local.catalog_table_prefix
    "quarkus.dynamodb.aws.region"                         = var.aws_region
    "quarkus.dynamodb.aws.credentials.type"               = "default"
    "nessie.catalog.default-warehouse"                    = local.warehouse_prefix
    "nessie.catalog.warehouses.warehouse.location"        = "s3://${local.bucket_name}/${local.warehouse_prefix}/"
    "nessie.catalog.service.s3.default-options.region"    = var.aws_region
    "nessie.catalog.service.s3.default-options.auth-type" = "APPLICATION_GLOBAL"
    "nessie.server.default-branch"                        = "main"
  }
}

resource "aws_ecs_cluster" "catalog" {
  name = "${local.name_prefix}-catalog"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "catalog" {
  name              = "/ecs/${local.name_prefix}-nessie"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "catalog" {
  family                   = "${local.name_prefix}-nessie"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.catalog_cpu_units
  memory                   = var.catalog_memory_mib
  execution_role_arn       = aws_iam_role.catalog_execution.arn
  task_role_arn            = aws_iam_role.catalog_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = "nessie"
    image     = "ghcr.io/projectnessie/nessie:${var.catalog_image_tag}"
    essential = true
    portMappings = [
      { containerPort = local.catalog_api_port, protocol = "tcp" },
      { containerPort = local.catalog_management_port, protocol = "tcp" },
    ]
    environment = [for k, v in local.catalog_properties : { name = k, value = v }]
    healthCheck = {
      # No curl in the image: probe the management port with bash's /dev/tcp.
      command     = ["CMD-SHELL", "exec 3<>/dev/tcp/127.0.0.1/${local.catalog_management_port} && printf 'GET ${local.catalog_health_path} HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 90
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.catalog.name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = "nessie"
      }
    }
  }])
}

resource "aws_security_group" "catalog_alb" {
  name        = "${local.name_prefix}-catalog-alb"
  description = "Catalog load balancer (${local.name_prefix})"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "catalog_alb_http" {
  for_each          = toset(var.aws_catalog_allowed_cidrs)
  security_group_id = aws_security_group.catalog_alb.id
  cidr_ipv4         = each.value
  from_port         = 80
  to_port           = 80
  ip_protocol       = "tcp"
  description       = "HTTP (redirected to HTTPS when enabled)"
}

resource "aws_vpc_security_group_ingress_rule" "catalog_alb_https" {
  for_each          = var.enable_https ? toset(var.aws_catalog_allowed_cidrs) : toset([])
  security_group_id = aws_security_group.catalog_alb.id
  cidr_ipv4         = each.value
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
  description       = "HTTPS"
}

resource "aws_vpc_security_group_egress_rule" "catalog_alb_to_tasks" {
  for_each                     = toset([tostring(local.catalog_api_port), tostring(local.catalog_management_port)])
  security_group_id            = aws_security_group.catalog_alb.id
  referenced_security_group_id = aws_security_group.catalog_tasks.id
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
  ip_protocol                  = "tcp"
}

resource "aws_security_group" "catalog_tasks" {
  name        = "${local.name_prefix}-catalog-tasks"
  description = "Nessie tasks (${local.name_prefix})"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "catalog_tasks_from_alb" {
  for_each                     = toset([tostring(local.catalog_api_port), tostring(local.catalog_management_port)])
  security_group_id            = aws_security_group.catalog_tasks.id
  referenced_security_group_id = aws_security_group.catalog_alb.id
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "catalog_tasks_https" {
  security_group_id = aws_security_group.catalog_tasks.id
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
  description       = "AWS APIs, S3/DynamoDB endpoints, image pulls"
}

resource "aws_lb" "catalog" {
  name                       = "${local.name_prefix}-nessie"
  load_balancer_type         = "application"
  internal                   = true
  subnets                    = aws_subnet.private[*].id
  security_groups            = [aws_security_group.catalog_alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  dynamic "access_logs" {
    for_each = var.enable_access_logging ? [1] : []
    content {
      bucket  = aws_s3_bucket.access_logs[0].id
      prefix  = "alb"
      enabled = true
    }
  }

  depends_on = [aws_s3_bucket_policy.access_logs]
}

resource "aws_lb_target_group" "catalog" {
  name                 = "${local.name_prefix}-nessie"
  port                 = local.catalog_api_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  health_check {
    path                = local.catalog_health_path
    port                = tostring(local.catalog_management_port)
    protocol            = "HTTP"
    matcher             = "200"
    healthy_threshold   = 2
    unhealthy_threshold = 3
    interval            = 15
    timeout             = 5
  }
}

resource "aws_lb_listener" "catalog_http" {
  load_balancer_arn = aws_lb.catalog.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = var.enable_https ? "redirect" : "forward"
    target_group_arn = var.enable_https ? null : aws_lb_target_group.catalog.arn

    dynamic "redirect" {
      for_each = var.enable_https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "catalog_https" {
  count             = var.enable_https ? 1 : 0
  load_balancer_arn = aws_lb.catalog.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.aws_certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.catalog.arn
  }
}

resource "aws_ecs_service" "catalog" {
  name                              = "${local.name_prefix}-nessie"
  cluster                           = aws_ecs_cluster.catalog.id
  task_definition                   = aws_ecs_task_definition.catalog.arn
  launch_type                       = "FARGATE"
  desired_count                     = var.catalog_min_instances
  health_check_grace_period_seconds = 120
  propagate_tags                    = "SERVICE"

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.catalog_tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.catalog.arn
    container_name   = "nessie"
    container_port   = local.catalog_api_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # The autoscaler owns the running count after creation; re-applying must
  # not reset it to the minimum.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.catalog_http]
}

resource "aws_appautoscaling_target" "catalog" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.catalog.name}/${aws_ecs_service.catalog.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.catalog_min_instances
  max_capacity       = var.catalog_max_instances
}

resource "aws_appautoscaling_policy" "catalog_cpu" {
  name               = "${local.name_prefix}-nessie-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.catalog.service_namespace
  resource_id        = aws_appautoscaling_target.catalog.resource_id
  scalable_dimension = aws_appautoscaling_target.catalog.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 70
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
