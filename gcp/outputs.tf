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
  description = "Iceberg REST catalog URI on Nessie's default branch, .../iceberg/main: pyiceberg's `uri` and ICEBERG_CATALOG_URI as they are (another branch: replace the last segment); reachable from inside the VPC."
  value       = local.catalog_uri
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

# ------------------------------------------------------- Dagster runtime --

output "dagster_image" {
  description = "The Dagster image this environment runs (null without Dagster). The pipeline passes it back as -var=dagster_image for a plan without a new release, so infrastructure-only changes and drift checks never roll code back."
  value       = local.dagster ? var.dagster_image : null
}

output "gate_image" {
  description = "The image of the quality-gate job (null without one); passed back like dagster_image."
  value       = var.gate_image
}

output "dagster_webserver_url" {
  description = "The Dagster UI's Cloud Run URL: internal ingress and run.invoker required, e.g. `gcloud run services proxy <service> --region <region>` as the admin identity (null without Dagster)."
  value       = local.dagster ? google_cloud_run_v2_service.dagster_webserver[0].uri : null
}

output "dagster_storage_secret" {
  description = "Secret Manager secret holding the Dagster database user's password: its name, never its value (null without Dagster)."
  value       = local.dagster ? google_secret_manager_secret.dagster_db_password[0].id : null
}

output "dagster_env" {
  description = "The dagster/.env.<env> values that come from this root (LAKEHOUSE_ENVIRONMENT, ICEBERG_CATALOG_URI ending in /iceberg/main, ICEBERG_WAREHOUSE, ...): what the deployed Dagster runs with, and what the pipeline's terraform.RuntimeEnv turns into dotenv lines. No secrets."
  value       = local.dagster_env
}

output "quality_gate" {
  description = "How to run the one-off quality-gate job (null without gate_image): gcloud run jobs execute <job> --project <project> --region <region> --update-env-vars GATE_RUN_ID=<id> --wait; the report is then <report_uri>/<id>/gate.json."
  value = local.gate ? {
    launcher        = "cloud-run-job"
    job             = google_cloud_run_v2_job.gate[0].name
    project         = var.gcp_project_id
    region          = var.gcp_region
    run_id_variable = "GATE_RUN_ID"
    report_uri      = local.gate_report_uri
  } : null
}

output "dagster_services" {
  description = "The long-running Dagster services (Cloud Run) and the revision this apply gave each (null without Dagster): the pipeline waits until each service's latest ready revision is exactly that one, with all traffic and the release's image, before it verifies a release."
  value = local.dagster ? {
    launcher = "cloud-run"
    project  = var.gcp_project_id
    region   = var.gcp_region
    services = {
      code_server = { name = google_cloud_run_v2_service.dagster_code[0].name, revision = google_cloud_run_v2_service.dagster_code[0].latest_ready_revision }
      daemon      = { name = google_cloud_run_v2_service.dagster_daemon[0].name, revision = google_cloud_run_v2_service.dagster_daemon[0].latest_ready_revision }
      webserver   = { name = google_cloud_run_v2_service.dagster_webserver[0].name, revision = google_cloud_run_v2_service.dagster_webserver[0].latest_ready_revision }
    }
  } : null
}

output "smoke_run" {
  description = "How to run the one-off smoke materialization of the deployed release (null without Dagster): gcloud run jobs execute <job> --project <project> --region <region> --wait; the job (dagster_smoke.tf) runs the release's image as a Dagster run does, so the runs show in the UI."
  value = local.dagster ? {
    launcher = "cloud-run-job"
    job      = google_cloud_run_v2_job.dagster_smoke[0].name
    project  = var.gcp_project_id
    region   = var.gcp_region
  } : null
}
