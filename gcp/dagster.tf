# Dagster on Cloud Run, all from var.dagster_image and all as the writer
# service account: the code server (gRPC over HTTP/2, internal ingress,
# reached at its run.app host through the VPC), the daemon (always on: one
# instance, CPU always allocated) and the webserver (internal ingress, IAM
# invoker required: open it with `gcloud run services proxy`). Storage is a
# database on the catalog's Cloud SQL instance (dagster_storage.tf).
#
# Runs execute in the code server (DefaultRunLauncher,
# dagster/deploy/gcp/dagster.yaml): Cloud Run has no per-run launcher that
# Dagster maintains, so the code server is a single instance with CPU always
# allocated, and a new revision interrupts the runs in flight (retried once
# by run_retries). See gcp/README.md. Nothing here exists when
# enable_dagster = false.

locals {
  dagster = var.enable_dagster

  # The instance and workspace of deployments (dagster/deploy/gcp/), written
  # to DAGSTER_HOME by the entrypoint (same image everywhere).
  dagster_home       = "/tmp/dagster-home"
  dagster_workspace  = "${local.dagster_home}/workspace.yaml"
  dagster_entrypoint = ["/bin/sh", "-c", file("${path.module}/../dagster/deploy/entrypoint.sh"), "dagster-entrypoint"]

  dagster_code_port      = 4000
  dagster_webserver_port = 3000
  dagster_db_name        = "dagster"
  dagster_db_user        = "dagster"

  # Cloud Run sizes from the shared Fargate-style inputs (1024 = 1 vCPU).
  dagster_sizes = {
    code_server = { cpu = tostring(var.dagster_code_server_cpu_units / 1024), memory = "${var.dagster_code_server_memory_mib}Mi" }
    daemon      = { cpu = tostring(var.dagster_daemon_cpu_units / 1024), memory = "${var.dagster_daemon_memory_mib}Mi" }
    webserver   = { cpu = tostring(var.dagster_webserver_cpu_units / 1024), memory = "${var.dagster_webserver_memory_mib}Mi" }
    run         = { cpu = tostring(var.dagster_run_cpu_units / 1024), memory = "${var.dagster_run_memory_mib}Mi" }
  }

  # Settings of the lakehouse code (the dagster/.env.<env> keys that come
  # from this root); output dagster_env, read by the pipeline's RuntimeEnv.
  dagster_env = {
    LAKEHOUSE_ENVIRONMENT     = var.environment
    ICEBERG_CATALOG_URI       = local.catalog_uri
    ICEBERG_WAREHOUSE         = "gs://${local.bucket_name}/${local.warehouse_prefix}"
    ICEBERG_CATALOG_WAREHOUSE = local.warehouse_prefix
  }

  # The code server's environment: the environment's policy from its tfvars
  # and the instance (storage). The daemon and webserver also get the code
  # server's host.
  dagster_runtime_env = merge(local.dagster_env, {
    LAKEHOUSE_ACCESS_LEVEL     = var.dagster_access_level
    LAKEHOUSE_ALERTING_ENABLED = tostring(var.enable_alerting)
    LAKEHOUSE_DEPLOYED         = "true"
    DAGSTER_HOME               = local.dagster_home
    DAGSTER_INSTANCE_YAML      = file("${path.module}/../dagster/deploy/gcp/dagster.yaml")
    DAGSTER_WORKSPACE_YAML     = file("${path.module}/../dagster/deploy/gcp/workspace.yaml")
    DAGSTER_CURRENT_IMAGE      = coalesce(var.dagster_image, "none")
    DAGSTER_POSTGRES_HOST      = google_sql_database_instance.catalog.private_ip_address
    DAGSTER_POSTGRES_DB        = local.dagster_db_name
    DAGSTER_POSTGRES_USER      = local.dagster_db_user
  })
  dagster_client_env = merge(local.dagster_runtime_env, {
    DAGSTER_CODE_SERVER_HOST = trimprefix(try(google_cloud_run_v2_service.dagster_code[0].uri, ""), "https://")
  })

  # The compose file's health checks (dagster/docker-compose.yaml; tests/infra
  # compares them). Cloud Run probes cannot exec: the code server's is the
  # same gRPC health service `dagster api grpc-health-check` asks, the
  # webserver's the same /server_info, the daemon's the liveness check
  # behind daemon_health.py's /healthz.
  dagster_health = {
    code_server = ["CMD", "dagster", "api", "grpc-health-check", "-p", "4000"]
    webserver   = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/server_info', timeout=5)"]
    daemon      = ["CMD", "dagster-daemon", "liveness-check"]
  }
  dagster_daemon_command = ["python", "-c", file("${path.module}/../dagster/deploy/gcp/daemon_health.py"), "dagster-daemon", "run", "-w", local.dagster_workspace]
}

resource "google_cloud_run_v2_service" "dagster_code" {
  count               = local.dagster ? 1 : 0
  name                = "${local.name_prefix}-dagster-code"
  location            = var.gcp_region
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  deletion_protection = var.deletion_protection
  # Dagster's gRPC client sends no identity token: only callers inside the
  # VPC reach it (internal ingress).
  invoker_iam_disabled = true

  template {
    service_account = google_service_account.dagster["writer"].email
    # Long gRPC calls (sensor and schedule ticks, run launches).
    timeout = "3600s"

    # One instance: the runs execute in it (DefaultRunLauncher).
    scaling {
      min_instance_count = 1
      max_instance_count = 1
    }

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
      args    = ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", tostring(local.dagster_code_port), "-m", "lakehouse.definitions", "--location-name", "lakehouse"]

      ports {
        name           = "h2c"
        container_port = local.dagster_code_port
      }

      resources {
        limits            = local.dagster_sizes.code_server
        cpu_idle          = false
        startup_cpu_boost = true
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

      startup_probe {
        period_seconds    = 10
        timeout_seconds   = 5
        failure_threshold = 30
        grpc {
          port    = local.dagster_code_port
          service = "DagsterApi"
        }
      }

      liveness_probe {
        period_seconds    = 15
        timeout_seconds   = 10
        failure_threshold = 10
        grpc {
          port    = local.dagster_code_port
          service = "DagsterApi"
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

resource "google_cloud_run_v2_service" "dagster_daemon" {
  count               = local.dagster ? 1 : 0
  name                = "${local.name_prefix}-dagster-daemon"
  location            = var.gcp_region
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  deletion_protection = var.deletion_protection

  template {
    service_account = google_service_account.dagster["writer"].email

    # Always on, exactly one: schedules, sensors and the run queue.
    scaling {
      min_instance_count = 1
      max_instance_count = 1
    }

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
      args    = local.dagster_daemon_command

      ports {
        container_port = 8080
      }

      resources {
        limits   = local.dagster_sizes.daemon
        cpu_idle = false
      }

      dynamic "env" {
        for_each = local.dagster_client_env
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

      startup_probe {
        initial_delay_seconds = 30
        period_seconds        = 15
        timeout_seconds       = 15
        failure_threshold     = 20
        http_get {
          path = "/healthz"
        }
      }

      liveness_probe {
        period_seconds    = 30
        timeout_seconds   = 15
        failure_threshold = 5
        http_get {
          path = "/healthz"
        }
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.dagster_db_password]
}

resource "google_cloud_run_v2_service" "dagster_webserver" {
  count               = local.dagster ? 1 : 0
  name                = "${local.name_prefix}-dagster-web"
  location            = var.gcp_region
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  deletion_protection = var.deletion_protection
  # The UI has no authentication of its own: callers need run.invoker (the
  # admin identity has it; `gcloud run services proxy` sends the token).
  invoker_iam_disabled = false

  template {
    service_account = google_service_account.dagster["writer"].email
    timeout         = "3600s"

    scaling {
      min_instance_count = 0
      max_instance_count = 2
    }

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
      args    = ["dagster-webserver", "-h", "0.0.0.0", "-p", tostring(local.dagster_webserver_port), "-w", local.dagster_workspace]

      ports {
        container_port = local.dagster_webserver_port
      }

      resources {
        limits            = local.dagster_sizes.webserver
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = local.dagster_client_env
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

      startup_probe {
        period_seconds    = 10
        timeout_seconds   = 5
        failure_threshold = 30
        http_get {
          path = "/server_info"
        }
      }

      liveness_probe {
        period_seconds    = 15
        timeout_seconds   = 10
        failure_threshold = 10
        http_get {
          path = "/server_info"
        }
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.dagster_db_password]
}
