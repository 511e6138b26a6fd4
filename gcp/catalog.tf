# Iceberg REST catalog: Nessie on Cloud Run, internal ingress only (Nessie has
# no authentication here, so only callers inside the VPC reach it). Clients
# use <service-uri>/iceberg/main (output catalog_uri).

locals {
  # Documented Nessie/Quarkus property names, passed with JAVA_OPTS_APPEND as
  # -D<name>=<value> (the form Nessie's configuration guide documents). The
  # password is the only secret and comes from Secret Manager instead.
  catalog_properties = {
    "nessie.version.store.type"                             = "JDBC2"
    "nessie.version.store.persist.jdbc.datasource"          = "postgresql"
    "quarkus.datasource.postgresql.jdbc.url"                = "jdbc:postgresql://${google_sql_database_instance.catalog.private_ip_address}:5432/${local.catalog_db_name}"
    "quarkus.datasource.postgresql.username"                = local.catalog_db_user
    "nessie.catalog.default-warehouse"                      = local.warehouse_prefix
    "nessie.catalog.warehouses.warehouse.location"          = "gs://${local.bucket_name}/${local.warehouse_prefix}/"
    "nessie.catalog.service.gcs.default-options.auth-type"  = "APPLICATION_DEFAULT"
    "nessie.catalog.service.gcs.default-options.project-id" = var.gcp_project_id
    "nessie.server.default-branch"                          = "main"
    # Cloud Run routes one port; serve /q/health on the API port instead of
    # the separate management port 9000 used on AWS.
    "quarkus.management.enabled" = "false"
  }
  catalog_java_opts = join(" ", [for k, v in local.catalog_properties : "-D${k}=${v}"])
}

# Nessie images are published on ghcr.io (and quay.io), not Docker Hub; an
# Artifact Registry remote repository proxies ghcr.io so Cloud Run pulls from
# a supported registry and keeps a copy of the pinned tag.
resource "google_artifact_registry_repository" "ghcr" {
  location      = var.gcp_region
  repository_id = "${local.name_prefix}-ghcr"
  description   = "ghcr.io proxy for the Nessie image (${local.name_prefix})"
  format        = "DOCKER"
  mode          = "REMOTE_REPOSITORY"

  remote_repository_config {
    description = "ghcr.io"

    docker_repository {
      custom_repository {
        uri = "https://ghcr.io"
      }
    }
  }

  depends_on = [google_project_service.required]
}

resource "google_cloud_run_v2_service" "catalog" {
  name                 = "${local.name_prefix}-nessie"
  location             = var.gcp_region
  ingress              = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  deletion_protection  = var.deletion_protection
  invoker_iam_disabled = true

  template {
    service_account = google_service_account.catalog.email

    scaling {
      min_instance_count = var.catalog_min_instances
      max_instance_count = var.catalog_max_instances
    }

    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = google_compute_network.main.id
        subnetwork = google_compute_subnetwork.catalog.id
      }
    }

    containers {
      image = "${var.gcp_region}-docker.pkg.dev/${var.gcp_project_id}/${google_artifact_registry_repository.ghcr.repository_id}/projectnessie/nessie:${var.catalog_image_tag}"

      ports {
        container_port = local.catalog_api_port
      }

      resources {
        limits = {
          cpu    = local.catalog_cpu
          memory = local.catalog_memory
        }
        startup_cpu_boost = true
      }

      env {
        name  = "JAVA_OPTS_APPEND"
        value = local.catalog_java_opts
      }

      env {
        name = "QUARKUS_DATASOURCE_POSTGRESQL_PASSWORD"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.catalog_db_password.secret_id
            version = "latest"
          }
        }
      }

      startup_probe {
        initial_delay_seconds = 10
        period_seconds        = 10
        failure_threshold     = 18
        timeout_seconds       = 5
        http_get {
          path = "/q/health/ready"
          port = local.catalog_api_port
        }
      }

      liveness_probe {
        period_seconds    = 30
        failure_threshold = 3
        timeout_seconds   = 5
        http_get {
          path = "/q/health/live"
          port = local.catalog_api_port
        }
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.catalog_db_password,
    google_secret_manager_secret_version.catalog_db_password,
    google_sql_user.catalog,
    google_sql_database.catalog,
  ]
}
