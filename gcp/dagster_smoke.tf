# The one-off smoke materialization of a deployed release as a Cloud Run
# job: the pipeline runs it (output smoke_run: job, project, region) after
# the Dagster services run the release, as aws/ runs its run task with
# `python -m lakehouse.smoke`. It is a Dagster run in all but launcher: the
# release's image (var.dagster_image), the run-sized resources, the code
# server's environment and instance (runs execute there, dagster.tf) and
# the writer identity, so its runs show in the deployment's UI. No retries:
# a failed smoke run is a verdict, not a hiccup. Exists with Dagster only.

resource "google_cloud_run_v2_job" "dagster_smoke" {
  count               = local.dagster ? 1 : 0
  name                = "${local.name_prefix}-dagster-smoke"
  location            = var.gcp_region
  deletion_protection = var.deletion_protection

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = google_service_account.dagster["writer"].email
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
        image   = var.dagster_image
        command = local.dagster_entrypoint
        args    = ["python", "-m", "lakehouse.smoke"]

        resources {
          limits = local.dagster_sizes.run
        }

        dynamic "env" {
          for_each = local.dagster_runtime_env
          content {
            name  = env.key
            value = env.value
          }
        }

        env {
          name = "DAGSTER_POSTGRES_PASSWORD"
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.dagster_db_password[0].secret_id
              version = "latest"
            }
          }
        }
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.dagster_db_password,
    google_secret_manager_secret_version.dagster_db_password,
    google_sql_user.dagster,
    google_sql_database.dagster,
  ]
}
