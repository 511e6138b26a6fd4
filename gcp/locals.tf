locals {
  # Every collision-prone name starts with this prefix. Longest: 23 chars, so
  # "<prefix>-writer" is at most 30 (the GCP service account id limit).
  name_prefix = "${var.project_name}-${var.environment}"

  labels = {
    project     = var.project_name
    environment = var.environment
    managed-by  = "terraform"
  }

  bucket_name      = "${local.name_prefix}-lakehouse"
  warehouse_prefix = "warehouse"

  catalog_api_port    = 19120
  catalog_db_name     = "nessie"
  catalog_db_user     = "nessie"
  catalog_subnet_cidr = "10.50.0.0/24"

  # Nessie's Iceberg REST endpoint on its default branch
  # (nessie.server.default-branch): what pyiceberg's ICEBERG_CATALOG_URI needs.
  catalog_uri = "${google_cloud_run_v2_service.catalog.uri}/iceberg/main"

  # Cloud Run sizes from the shared Fargate-style inputs.
  catalog_cpu    = tostring(max(1, floor(var.catalog_cpu_units / 1024)))
  catalog_memory = "${max(512, var.catalog_memory_mib)}Mi"

  services = toset([
    "compute.googleapis.com",
    "run.googleapis.com",
    "sqladmin.googleapis.com",
    "servicenetworking.googleapis.com",
    "secretmanager.googleapis.com",
    "cloudkms.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "iam.googleapis.com",
    "artifactregistry.googleapis.com",
  ])
}

resource "google_project_service" "required" {
  for_each           = local.services
  service            = each.value
  disable_on_destroy = false
}
