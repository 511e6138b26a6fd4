# Network of the Dagster tasks: the webserver behind an internal ALB (HTTPS
# with aws_certificate_arn where enable_https), reachable from
# aws_dagster_allowed_cidrs only; the tasks reach each other (gRPC 4000),
# their database, the catalog's ALB and AWS APIs, nothing else.

locals {
  dagster_scheme = var.enable_https ? "https" : "http"
}

resource "aws_security_group" "dagster_tasks" {
  count       = local.dagster ? 1 : 0
  name        = "${local.name_prefix}-dagster-tasks"
  description = "Dagster code server, daemon, webserver and run tasks (${local.name_prefix})"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "dagster_tasks_grpc" {
  count                        = local.dagster ? 1 : 0
  security_group_id            = aws_security_group.dagster_tasks[0].id
  referenced_security_group_id = aws_security_group.dagster_tasks[0].id
  from_port                    = local.dagster_code_port
  to_port                      = local.dagster_code_port
  ip_protocol                  = "tcp"
  description                  = "Code server gRPC from the daemon, webserver and runs"
}

resource "aws_vpc_security_group_ingress_rule" "dagster_tasks_from_alb" {
  count                        = local.dagster ? 1 : 0
  security_group_id            = aws_security_group.dagster_tasks[0].id
  referenced_security_group_id = aws_security_group.dagster_alb[0].id
  from_port                    = local.dagster_webserver_port
  to_port                      = local.dagster_webserver_port
  ip_protocol                  = "tcp"
  description                  = "Webserver from its load balancer"
}

resource "aws_vpc_security_group_egress_rule" "dagster_tasks_grpc" {
  count                        = local.dagster ? 1 : 0
  security_group_id            = aws_security_group.dagster_tasks[0].id
  referenced_security_group_id = aws_security_group.dagster_tasks[0].id
  from_port                    = local.dagster_code_port
  to_port                      = local.dagster_code_port
  ip_protocol                  = "tcp"
  description                  = "Code server gRPC"
}

resource "aws_vpc_security_group_egress_rule" "dagster_tasks_db" {
  count                        = local.dagster ? 1 : 0
  security_group_id            = aws_security_group.dagster_tasks[0].id
  referenced_security_group_id = aws_security_group.dagster_db[0].id
  from_port                    = 5432
  to_port                      = 5432
  ip_protocol                  = "tcp"
  description                  = "Run, event and schedule storage"
}

resource "aws_vpc_security_group_egress_rule" "dagster_tasks_catalog" {
  count                        = local.dagster && !var.enable_https ? 1 : 0
  security_group_id            = aws_security_group.dagster_tasks[0].id
  referenced_security_group_id = aws_security_group.catalog_alb.id
  from_port                    = 80
  to_port                      = 80
  ip_protocol                  = "tcp"
  description                  = "Iceberg REST catalog over HTTP"
}

resource "aws_vpc_security_group_egress_rule" "dagster_tasks_https" {
  count             = local.dagster ? 1 : 0
  security_group_id = aws_security_group.dagster_tasks[0].id
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
  description       = "Catalog over HTTPS, AWS APIs (ECS, S3, Secrets Manager, logs), image pulls, alert webhooks"
}

# The catalog ALB admits the Dagster and gate tasks by security group, not
# only by aws_catalog_allowed_cidrs.
resource "aws_vpc_security_group_ingress_rule" "catalog_alb_from_tasks" {
  for_each = merge(
    local.dagster ? { "dagster-http" = { sg = aws_security_group.dagster_tasks[0].id, port = 80 } } : {},
    local.dagster && var.enable_https ? { "dagster-https" = { sg = aws_security_group.dagster_tasks[0].id, port = 443 } } : {},
    local.gate ? { "gate-http" = { sg = aws_security_group.gate[0].id, port = 80 } } : {},
    local.gate && var.enable_https ? { "gate-https" = { sg = aws_security_group.gate[0].id, port = 443 } } : {},
  )
  security_group_id            = aws_security_group.catalog_alb.id
  referenced_security_group_id = each.value.sg
  from_port                    = each.value.port
  to_port                      = each.value.port
  ip_protocol                  = "tcp"
  description                  = "Catalog from ${each.key} tasks"
}

resource "aws_security_group" "dagster_alb" {
  count       = local.dagster ? 1 : 0
  name        = "${local.name_prefix}-dagster-alb"
  description = "Dagster webserver load balancer (${local.name_prefix})"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "dagster_alb" {
  for_each = local.dagster ? {
    for pair in setproduct(var.aws_dagster_allowed_cidrs, var.enable_https ? [80, 443] : [80]) : "${pair[0]}:${pair[1]}" => { cidr = pair[0], port = pair[1] }
  } : {}
  security_group_id = aws_security_group.dagster_alb[0].id
  cidr_ipv4         = each.value.cidr
  from_port         = each.value.port
  to_port           = each.value.port
  ip_protocol       = "tcp"
  description       = each.value.port == 443 ? "HTTPS" : "HTTP (redirected to HTTPS when enabled)"
}

resource "aws_vpc_security_group_egress_rule" "dagster_alb_to_webserver" {
  count                        = local.dagster ? 1 : 0
  security_group_id            = aws_security_group.dagster_alb[0].id
  referenced_security_group_id = aws_security_group.dagster_tasks[0].id
  from_port                    = local.dagster_webserver_port
  to_port                      = local.dagster_webserver_port
  ip_protocol                  = "tcp"
}

resource "aws_lb" "dagster" {
  count                      = local.dagster ? 1 : 0
  name                       = "${local.name_prefix}-dagster"
  load_balancer_type         = "application"
  internal                   = true
  subnets                    = aws_subnet.private[*].id
  security_groups            = [aws_security_group.dagster_alb[0].id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  # Run pages keep long-lived connections open.
  idle_timeout = 300

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

resource "aws_lb_target_group" "dagster" {
  count                = local.dagster ? 1 : 0
  name                 = "${local.name_prefix}-dagster"
  port                 = local.dagster_webserver_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  # The compose health check's endpoint.
  health_check {
    path                = "/server_info"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    healthy_threshold   = 2
    unhealthy_threshold = 3
    interval            = 15
    timeout             = 5
  }
}

resource "aws_lb_listener" "dagster_http" {
  count             = local.dagster ? 1 : 0
  load_balancer_arn = aws_lb.dagster[0].arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = var.enable_https ? "redirect" : "forward"
    target_group_arn = var.enable_https ? null : aws_lb_target_group.dagster[0].arn

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

resource "aws_lb_listener" "dagster_https" {
  count             = local.dagster && var.enable_https ? 1 : 0
  load_balancer_arn = aws_lb.dagster[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.aws_certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.dagster[0].arn
  }
}
