# The quality gate as a one-off ECS task: the pipeline starts it (output
# quality_gate: cluster, task definition, subnets, security group) with
# GATE_RUN_ID set, and reads <report_uri>/<GATE_RUN_ID>/gate.json from the
# environment's bucket. It runs var.gate_image (dagster/deploy/gate.sh around
# `python -m lakehouse.quality.gate`) against this environment's catalog with
# the reader's data access (PII masked) in a role of its own: the reader's
# permissions plus writing reports under quality/, so no other reader of the
# lakehouse can write (or forge) a gate report. Exists when gate_image is set,
# with or without Dagster.

locals {
  gate            = var.gate_image != null
  gate_report_uri = "s3://${local.bucket_name}/quality"

  gate_ecr_repository_arn = local.ecr_repository_arns["gate"]

  gate_env = merge(local.dagster_env, {
    LAKEHOUSE_ACCESS_LEVEL     = "reader"
    LAKEHOUSE_ALERTING_ENABLED = "false"
    LAKEHOUSE_DEPLOYED         = "true"
    GATE_REPORT_URI            = local.gate_report_uri
  })

  gate_container = {
    name             = "gate"
    image            = var.gate_image
    essential        = true
    entryPoint       = ["/bin/sh", "-c", file("${path.module}/../dagster/deploy/gate.sh"), "quality-gate"]
    environment      = [for k, v in local.gate_env : { name = k, value = v }]
    logConfiguration = { logDriver = "awslogs", options = { awslogs-group = "/ecs/${local.name_prefix}-quality-gate", awslogs-region = var.aws_region, awslogs-stream-prefix = "gate" } }
  }
}

resource "aws_cloudwatch_log_group" "gate" {
  count             = local.gate ? 1 : 0
  name              = "/ecs/${local.name_prefix}-quality-gate"
  retention_in_days = var.log_retention_days
}

resource "aws_iam_role" "gate" {
  count              = local.gate ? 1 : 0
  name               = "${local.name_prefix}-quality-gate"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

data "aws_iam_policy_document" "gate" {
  count                   = local.gate ? 1 : 0
  source_policy_documents = [data.aws_iam_policy_document.reader.json]

  statement {
    sid       = "WriteGateReports"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/quality/*"]
  }
  statement {
    sid       = "EncryptGateReports"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.lakehouse.arn]
  }
}

resource "aws_iam_role_policy" "gate" {
  count  = local.gate ? 1 : 0
  name   = "${local.name_prefix}-quality-gate"
  role   = aws_iam_role.gate[0].id
  policy = data.aws_iam_policy_document.gate[0].json
}

resource "aws_iam_role" "gate_execution" {
  count              = local.gate ? 1 : 0
  name               = "${local.name_prefix}-quality-gate-exec"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

data "aws_iam_policy_document" "gate_execution" {
  count = local.gate ? 1 : 0

  dynamic "statement" {
    for_each = local.gate_ecr_repository_arn == null ? [] : [1]
    content {
      sid       = "EcrLogin"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.gate_ecr_repository_arn == null ? [] : [local.gate_ecr_repository_arn]
    content {
      sid       = "PullGateImage"
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.gate[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "gate_execution" {
  count  = local.gate ? 1 : 0
  name   = "${local.name_prefix}-quality-gate-exec"
  role   = aws_iam_role.gate_execution[0].id
  policy = data.aws_iam_policy_document.gate_execution[0].json
}

resource "aws_security_group" "gate" {
  count       = local.gate ? 1 : 0
  name        = "${local.name_prefix}-quality-gate"
  description = "Quality gate task (${local.name_prefix})"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_egress_rule" "gate_https" {
  count             = local.gate ? 1 : 0
  security_group_id = aws_security_group.gate[0].id
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
  description       = "Catalog over HTTPS, S3, image pulls, logs"
}

resource "aws_vpc_security_group_egress_rule" "gate_catalog" {
  count                        = local.gate && !var.enable_https ? 1 : 0
  security_group_id            = aws_security_group.gate[0].id
  referenced_security_group_id = aws_security_group.catalog_alb.id
  from_port                    = 80
  to_port                      = 80
  ip_protocol                  = "tcp"
  description                  = "Iceberg REST catalog over HTTP"
}

resource "aws_ecs_task_definition" "gate" {
  count                    = local.gate ? 1 : 0
  family                   = "${local.name_prefix}-quality-gate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.dagster_run_cpu_units
  memory                   = local.dagster_fargate_memory["run"]
  execution_role_arn       = aws_iam_role.gate_execution[0].arn
  task_role_arn            = aws_iam_role.gate[0].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([local.gate_container])

  depends_on = [aws_cloudwatch_log_group.gate]
}
