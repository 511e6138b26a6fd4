# Outputs the pipeline consumes; same names as aws/outputs.tf.

output "cloud" {
  description = "Which root produced these outputs."
  value       = "gcp"
}

output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "region" {
  description = "Region of the catalog (the bucket is in gcp_location)."
  value       = var.gcp_region
}

output "bucket_name" {
  description = "Lakehouse bucket."
  value       = google_storage_bucket.lakehouse.name
}

output "warehouse_uri" {
  description = "Iceberg warehouse location (ICEBERG_WAREHOUSE)."
  value       = "gs://${google_storage_bucket.lakehouse.name}/${local.warehouse_prefix}"
}

output "catalog_warehouse" {
  description = "Name of the Nessie warehouse that maps to warehouse_uri (its default warehouse)."
  value       = local.warehouse_prefix
}

output "catalog_uri" {
  description = "Iceberg REST catalog URI (PyIceberg `uri`); reachable from inside the VPC. Append /<branch> to pin a Nessie branch."
  value       = "${google_cloud_run_v2_service.catalog.uri}/iceberg"
}

output "catalog_api_uri" {
  description = "Nessie native API v2 (branches, merges)."
  value       = "${google_cloud_run_v2_service.catalog.uri}/api/v2"
}

output "writer_identity" {
  description = "Service account e-mail Dagster uses to write tables."
  value       = google_service_account.dagster["writer"].email
}

output "reader_identity" {
  description = "Service account e-mail for read-only consumers (Soda scans, BI)."
  value       = google_service_account.dagster["reader"].email
}

output "admin_identity" {
  description = "Service account e-mail for maintenance (compaction, snapshot expiry, catalog operations)."
  value       = google_service_account.dagster["admin"].email
}

output "alert_channel" {
  description = "Monitoring notification channel id, or empty when none."
  value       = try(google_monitoring_notification_channel.email[0].id, "")
}
