# Plans and applies the root against mocked google and random providers (no
# credentials, nothing created) with one environment's tfvars, and checks
# what the environment switches actually change:
#   terraform test -var-file=../environments/<env>.tfvars -var=gcp_project_id=zzfixture-project
# (the -var replaces the committed placeholder project, which the
# no_placeholder_project check would otherwise flag).
# tests/infra runs this for every environments/*.tfvars whenever the google
# provider is in the provider mirror (TF_PLUGIN_MIRROR; see docs/verification.md for
# building it): the registry's google provider is not reachable everywhere.

# The release's images: the pipeline passes them with -var, never the tfvars.
variables {
  dagster_image = "us-central1-docker.pkg.dev/zzfixture-project/lakehouse/lakehouse@sha256:1111111111111111111111111111111111111111111111111111111111111111"
  gate_image    = "us-central1-docker.pkg.dev/zzfixture-project/lakehouse/lakehouse@sha256:2222222222222222222222222222222222222222222222222222222222222222"
}

# The provider validates some computed values even when mocked (a network's
# self link, a service account's member): mocks give them well-formed ones.
mock_provider "google" {
  mock_resource "google_compute_network" {
    defaults = {
      id        = "projects/zzfixture-project/global/networks/mock"
      self_link = "https://www.googleapis.com/compute/v1/projects/zzfixture-project/global/networks/mock"
    }
  }

  mock_resource "google_compute_subnetwork" {
    defaults = {
      id        = "projects/zzfixture-project/regions/us-central1/subnetworks/mock"
      self_link = "https://www.googleapis.com/compute/v1/projects/zzfixture-project/regions/us-central1/subnetworks/mock"
    }
  }

  mock_resource "google_service_account" {
    defaults = {
      email  = "mock@zzfixture-project.iam.gserviceaccount.com"
      member = "serviceAccount:mock@zzfixture-project.iam.gserviceaccount.com"
    }
  }

  mock_resource "google_kms_crypto_key" {
    defaults = {
      id = "projects/zzfixture-project/locations/us/keyRings/mock/cryptoKeys/mock"
    }
  }

  mock_resource "google_secret_manager_secret" {
    defaults = {
      id = "projects/zzfixture-project/secrets/mock"
    }
  }

  mock_resource "google_cloud_run_v2_service" {
    defaults = {
      uri                   = "https://mock-zzfixture.a.run.app"
      latest_ready_revision = "mock-00001-abc"
    }
  }

  mock_resource "google_sql_database_instance" {
    defaults = {
      private_ip_address = "10.60.0.3"
      connection_name    = "zzfixture-project:us-central1:mock"
    }
  }

  mock_data "google_storage_project_service_account" {
    defaults = {
      email_address = "service-123456789012@gs-project-accounts.iam.gserviceaccount.com"
    }
  }
}

mock_provider "random" {}

run "environment" {
  command = plan

  assert {
    condition     = google_storage_bucket.lakehouse.name == "${var.project_name}-${var.environment}-lakehouse" && google_storage_bucket.lakehouse.versioning[0].enabled && google_storage_bucket.lakehouse.public_access_prevention == "enforced"
    error_message = "bucket must be <project>-<env>-lakehouse, versioned, never public"
  }

  assert {
    condition     = length(google_kms_crypto_key.lakehouse) == (var.gcp_enable_cmek ? 1 : 0) && length(google_storage_bucket.lakehouse.encryption) == (var.gcp_enable_cmek ? 1 : 0)
    error_message = "CMEK must follow gcp_enable_cmek"
  }

  assert {
    condition     = length(google_storage_bucket.access_logs) == (var.enable_access_logging ? 1 : 0) && length(google_storage_bucket.lakehouse.logging) == (var.enable_access_logging ? 1 : 0)
    error_message = "access logging must follow enable_access_logging"
  }

  assert {
    condition     = length(google_project_iam_audit_config.storage) == (var.enable_audit_logging ? 1 : 0) && length(google_logging_project_sink.audit) == (var.enable_audit_logging ? 1 : 0)
    error_message = "data access audit logs must follow enable_audit_logging"
  }

  assert {
    condition = (
      google_sql_database_instance.catalog.settings[0].tier == var.gcp_catalog_db_tier &&
      google_sql_database_instance.catalog.settings[0].availability_type == (var.gcp_catalog_db_high_availability ? "REGIONAL" : "ZONAL") &&
      google_sql_database_instance.catalog.deletion_protection == var.deletion_protection &&
      !google_sql_database_instance.catalog.settings[0].ip_configuration[0].ipv4_enabled
    )
    error_message = "the catalog's Cloud SQL instance must follow the environment's tier, HA and deletion protection, with no public IP"
  }

  assert {
    condition     = google_cloud_run_v2_service.catalog.ingress == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    error_message = "the catalog is reachable from inside the VPC only"
  }

  assert {
    condition     = output.region == var.gcp_region && output.environment == var.environment && output.cloud == "gcp"
    error_message = "outputs must report the cloud, region and environment"
  }

  assert {
    condition     = output.dagster_env["LAKEHOUSE_ENVIRONMENT"] == var.environment && output.dagster_env["ICEBERG_WAREHOUSE"] == "gs://${var.project_name}-${var.environment}-lakehouse/warehouse"
    error_message = "dagster_env must name the environment and its warehouse"
  }
}

run "dagster" {
  command = plan

  assert {
    condition = (
      length(google_cloud_run_v2_service.dagster_code) + length(google_cloud_run_v2_service.dagster_daemon) + length(google_cloud_run_v2_service.dagster_webserver)
    ) == (var.enable_dagster ? 3 : 0)
    error_message = "code server, daemon and webserver must run as Cloud Run services exactly when enable_dagster"
  }

  assert {
    condition = !var.enable_dagster || alltrue([
      for s in concat(google_cloud_run_v2_service.dagster_code, google_cloud_run_v2_service.dagster_daemon, google_cloud_run_v2_service.dagster_webserver) :
      s.template[0].containers[0].image == var.dagster_image && s.deletion_protection == var.deletion_protection
    ])
    error_message = "every Dagster service must run var.dagster_image and follow deletion_protection"
  }

  assert {
    condition     = !var.enable_dagster || (google_cloud_run_v2_job.dagster_smoke[0].template[0].template[0].containers[0].image == var.dagster_image && output.smoke_run.launcher == "cloud-run-job")
    error_message = "the smoke job must run the release's Dagster image"
  }

  assert {
    condition     = length(google_cloud_run_v2_job.gate) == 1 && google_cloud_run_v2_job.gate[0].template[0].template[0].containers[0].image == var.gate_image && output.quality_gate.report_uri == "gs://${var.project_name}-${var.environment}-lakehouse/quality"
    error_message = "the gate job must run var.gate_image and report to the environment's bucket under quality/"
  }

  assert {
    condition     = google_storage_bucket_iam_member.gate_reports[0].role == "roles/storage.objectCreator" && strcontains(google_storage_bucket_iam_member.gate_reports[0].condition[0].expression, "/objects/quality/")
    error_message = "the gate may create objects under quality/ only"
  }

  assert {
    condition     = output.dagster_image == (var.enable_dagster ? var.dagster_image : null) && output.gate_image == var.gate_image
    error_message = "outputs must report the running images"
  }
}

run "without_dagster" {
  command = plan

  variables {
    enable_dagster = false
    dagster_image  = null
    gate_image     = null
  }

  assert {
    condition = (
      length(google_cloud_run_v2_service.dagster_code) + length(google_cloud_run_v2_service.dagster_daemon) + length(google_cloud_run_v2_service.dagster_webserver) +
      length(google_cloud_run_v2_job.dagster_smoke) + length(google_cloud_run_v2_job.gate) + length(google_sql_database.dagster) +
      length(google_compute_router.main) + length(google_compute_router_nat.main)
    ) == 0
    error_message = "with enable_dagster = false and no gate image, no Dagster or gate resource may exist"
  }

  assert {
    condition     = output.dagster_image == null && output.dagster_webserver_url == null && output.dagster_storage_secret == null && output.quality_gate == null && output.smoke_run == null && output.dagster_services == null
    error_message = "without Dagster the runtime outputs are null"
  }
}

# Apply mode: computed values come from the mocks, so the outputs the
# pipeline reads after an apply can be checked whole.
run "applied" {
  command = apply

  assert {
    condition = !var.enable_dagster || (
      output.dagster_services.launcher == "cloud-run" &&
      toset(keys(output.dagster_services.services)) == toset(["code_server", "daemon", "webserver"]) &&
      alltrue([for s in values(output.dagster_services.services) : s.revision == "mock-00001-abc"]) &&
      output.dagster_services.services.daemon.name == "${var.project_name}-${var.environment}-dagster-daemon"
    )
    error_message = "dagster_services must name each service and the revision the apply made ready"
  }

  assert {
    condition     = output.quality_gate.job == "${var.project_name}-${var.environment}-quality-gate" && output.quality_gate.project == var.gcp_project_id && output.quality_gate.run_id_variable == "GATE_RUN_ID"
    error_message = "quality_gate must name the applied job in the environment's project"
  }

  assert {
    condition     = output.catalog_uri == "https://mock-zzfixture.a.run.app/iceberg/main"
    error_message = "catalog_uri must be the catalog service's URL on Nessie's default branch"
  }
}

run "tag_only_image_is_refused" {
  command = plan

  variables {
    dagster_image = "us-central1-docker.pkg.dev/zzfixture-project/lakehouse/lakehouse:v1.4.0"
  }

  expect_failures = [var.dagster_image]
}

run "missing_image_is_refused_where_dagster_runs" {
  command = plan

  variables {
    enable_dagster = true
    dagster_image  = null
  }

  expect_failures = [var.dagster_image]
}
