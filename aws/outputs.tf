# Outputs the pipeline consumes. The names are shared with gcp/outputs.tf so
# consumers do not branch on the cloud (tests/infra asserts the same set).

output "cloud" {
  description = "Which root produced these outputs."
  value       = "aws"
}

output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "region" {
  description = "Region of the bucket and catalog."
  value       = var.aws_region
}

output "bucket_name" {
  description = "Lakehouse bucket."
  value       = aws_s3_bucket.lakehouse.id
}

output "warehouse_uri" {
  description = "Iceberg warehouse location (ICEBERG_WAREHOUSE)."
  value       = "s3://${aws_s3_bucket.lakehouse.id}/${local.warehouse_prefix}"
}

output "catalog_warehouse" {
  description = "Name of the Nessie warehouse that maps to warehouse_uri (its default warehouse)."
  value       = local.warehouse_prefix
}

output "catalog_uri" {
  description = "Iceberg REST catalog URI (PyIceberg `uri`). Append /<branch> (e.g. /main) to pin a Nessie branch."
  value       = "${local.catalog_base}/iceberg"
}

output "catalog_api_uri" {
  description = "Nessie native API v2 (branches, merges)."
  value       = "${local.catalog_base}/api/v2"
}

output "writer_identity" {
  description = "IAM role ARN Dagster assumes to write tables."
  value       = aws_iam_role.dagster["writer"].arn
}

output "reader_identity" {
  description = "IAM role ARN for read-only consumers (Soda scans, BI)."
  value       = aws_iam_role.dagster["reader"].arn
}

output "admin_identity" {
  description = "IAM role ARN for maintenance (compaction, snapshot expiry, catalog operations)."
  value       = aws_iam_role.dagster["admin"].arn
}

output "alert_channel" {
  description = "SNS topic ARN alarms notify, or empty when alerting is off."
  value       = var.enable_alerting ? local.alarm_topic_arn : ""
}
