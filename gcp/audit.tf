# Data Access audit logs for Cloud Storage are OFF by default in GCP; this
# turns them on (DATA_READ + DATA_WRITE) and routes the lakehouse bucket's
# entries to a per-environment log bucket with log_retention_days retention.
#
# google_project_iam_audit_config is per project and service: if several
# environments share one GCP project, enable audit logging in only one of
# them (or, better, use one project per environment).

resource "google_project_iam_audit_config" "storage" {
  count   = var.enable_audit_logging ? 1 : 0
  project = var.gcp_project_id
  service = "storage.googleapis.com"

  audit_log_config {
    log_type = "DATA_READ"
  }

  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

resource "google_logging_project_bucket_config" "audit" {
  count          = var.enable_audit_logging ? 1 : 0
  project        = var.gcp_project_id
  location       = "global"
  bucket_id      = "${local.name_prefix}-audit"
  retention_days = min(var.log_retention_days, 3650)
  description    = "Data access audit logs for ${local.bucket_name}"

  depends_on = [google_project_service.required]
}

resource "google_logging_project_sink" "audit" {
  count                  = var.enable_audit_logging ? 1 : 0
  name                   = "${local.name_prefix}-audit"
  destination            = "logging.googleapis.com/${google_logging_project_bucket_config.audit[0].id}"
  unique_writer_identity = true
  filter                 = "logName=\"projects/${var.gcp_project_id}/logs/cloudaudit.googleapis.com%2Fdata_access\" AND resource.type=\"gcs_bucket\" AND resource.labels.bucket_name=\"${local.bucket_name}\""
}
