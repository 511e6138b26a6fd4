# Alert policies on the catalog (enable_alerting). Notifications go to an
# e-mail channel when alert_email is set; add Slack/PagerDuty channels to the
# policies outside this root if needed.

resource "google_monitoring_notification_channel" "email" {
  count        = var.enable_alerting && var.alert_email != "" ? 1 : 0
  display_name = "${local.name_prefix} alerts"
  type         = "email"

  labels = {
    email_address = var.alert_email
  }

  depends_on = [google_project_service.required]
}

locals {
  notification_channels = google_monitoring_notification_channel.email[*].id

  alert_policies = {
    "nessie-5xx" = {
      filter    = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloud_run_v2_service.catalog.name}\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      threshold = 10
      aligner   = "ALIGN_SUM"
    }
    "nessie-db-cpu-high" = {
      filter    = "resource.type = \"cloudsql_database\" AND resource.labels.database_id = \"${var.gcp_project_id}:${google_sql_database_instance.catalog.name}\" AND metric.type = \"cloudsql.googleapis.com/database/cpu/utilization\""
      threshold = 0.85
      aligner   = "ALIGN_MEAN"
    }
  }
}

resource "google_monitoring_alert_policy" "catalog" {
  for_each              = var.enable_alerting ? local.alert_policies : {}
  display_name          = "${local.name_prefix}-${each.key}"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "${local.name_prefix}-${each.key}"

    condition_threshold {
      filter          = each.value.filter
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "300s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = each.value.aligner
      }
    }
  }
}
