# The quality gate as a Cloud Run job: the pipeline runs it (output
# quality_gate: job, project, region) with GATE_RUN_ID set
# (`gcloud run jobs execute <job> --update-env-vars GATE_RUN_ID=<id> --wait`)
# and reads <report_uri>/<GATE_RUN_ID>/gate.json from the environment's
# bucket. It runs var.gate_image (dagster/deploy/gate.sh around
# `python -m lakehouse.quality.gate`) against this environment's catalog with
# the reader's data access (PII masked) as a service account of its own: the
# reader's bucket role plus creating reports under quality/, so no other
# reader of the lakehouse can write (or forge) a gate report. Exists when
# gate_image is set, with or without Dagster.

locals {
  gate            = var.gate_image != null
  gate_report_uri = "gs://${local.bucket_name}/quality"

  gate_env = merge(local.dagster_env, {
    LAKEHOUSE_ACCESS_LEVEL     = "reader"
    LAKEHOUSE_ALERTING_ENABLED = "false"
    LAKEHOUSE_DEPLOYED         = "true"
    GATE_REPORT_URI            = local.gate_report_uri
  })
}

resource "google_service_account" "gate" {
  count        = local.gate ? 1 : 0
  account_id   = "${local.name_prefix}-gate"
  display_name = "Quality gate (${local.name_prefix})"

  depends_on = [google_project_service.required]
}

resource "google_storage_bucket_iam_member" "gate_read" {
  count  = local.gate ? 1 : 0
  bucket = google_storage_bucket.lakehouse.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.gate[0].member
}

resource "google_storage_bucket_iam_member" "gate_reports" {
  count  = local.gate ? 1 : 0
  bucket = google_storage_bucket.lakehouse.name
  role   = "roles/storage.objectCreator"
  member = google_service_account.gate[0].member

  condition {
    title       = "quality-reports-only"
    description = "Gate reports under quality/"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${local.bucket_name}/objects/quality/\")"
  }
}

resource "google_cloud_run_v2_job" "gate" {
  count               = local.gate ? 1 : 0
  name                = "${local.name_prefix}-quality-gate"
  location            = var.gcp_region
  deletion_protection = var.deletion_protection

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = google_service_account.gate[0].email
      timeout         = "3600s"
      max_retries     = 0

      vpc_access {
        egress = "ALL_TRAFFIC"
        network_interfaces {
          network    = google_compute_network.main.id
          subnetwork = google_compute_subnetwork.catalog.id
        }
      }

      containers {
        image   = var.gate_image
        command = ["/bin/sh", "-c", file("${path.module}/../dagster/deploy/gate.sh"), "quality-gate"]

        resources {
          limits = local.dagster_sizes.run
        }

        dynamic "env" {
          for_each = local.gate_env
          content {
            name  = env.key
            value = env.value
          }
        }
      }
    }
  }
}
