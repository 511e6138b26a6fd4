locals {
  # Every collision-prone name starts with this prefix, so environments that
  # share an account never collide. Longest: 12 + 1 + 10 = 23 characters.
  name_prefix = "${var.project_name}-${var.environment}"

  tags = {
    Project     = var.project_name
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  bucket_name      = "${local.name_prefix}-lakehouse"
  warehouse_prefix = "warehouse"

  # Nessie (Iceberg REST catalog) ports: API and Quarkus management (health).
  catalog_api_port        = 19120
  catalog_management_port = 9000
  catalog_health_path     = "/q/health/ready"

  # DynamoDB version store: Nessie's DYNAMODB2 backend uses the tables
  # "<prefix>_refs" and "<prefix>_objs" with a single string hash key "k".
  catalog_table_prefix = "${local.name_prefix}-nessie"

  azs = slice(data.aws_availability_zones.available.names, 0, 2)

  create_alarm_topic = var.enable_alerting && var.aws_alarm_topic_arn == ""
  alarm_topic_arn    = var.aws_alarm_topic_arn != "" ? var.aws_alarm_topic_arn : try(aws_sns_topic.alerts[0].arn, "")
  alarm_actions      = var.enable_alerting ? [local.alarm_topic_arn] : []

  catalog_scheme = var.enable_https ? "https" : "http"
  catalog_base   = "${local.catalog_scheme}://${aws_lb.catalog.dns_name}"

  # Nessie's Iceberg REST endpoint on its default branch
  # (nessie.server.default-branch): what pyiceberg's ICEBERG_CATALOG_URI needs.
  catalog_uri = "${local.catalog_base}/iceberg/main"
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}
