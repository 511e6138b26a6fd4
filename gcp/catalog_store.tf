# Durable Nessie version store: Cloud SQL for PostgreSQL over a private IP
# (nessie.version.store.type = JDBC2). The database password is generated,
# kept in Secret Manager and injected into Cloud Run as a secret; it never
# appears in code or tfvars (it does live in the encrypted remote state).

resource "google_sql_database_instance" "catalog" {
  name                = "${local.name_prefix}-nessie"
  region              = var.gcp_region
  database_version    = "POSTGRES_16"
  deletion_protection = var.deletion_protection

  settings {
    # ENTERPRISE explicitly: newer Postgres versions default to Enterprise
    # Plus, which rejects shared-core tiers such as db-f1-micro.
    edition           = "ENTERPRISE"
    tier              = var.gcp_catalog_db_tier
    availability_type = var.gcp_catalog_db_high_availability ? "REGIONAL" : "ZONAL"
    disk_autoresize   = true
    user_labels       = local.labels

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7
    }

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.main.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }
  }

  # Catalog state: losing it orphans every table's metadata pointer.
  lifecycle {
    prevent_destroy = true
  }

  depends_on = [google_service_networking_connection.private_services]
}

resource "google_sql_database" "catalog" {
  name     = local.catalog_db_name
  instance = google_sql_database_instance.catalog.name

  lifecycle {
    prevent_destroy = true
  }
}

resource "random_password" "catalog_db" {
  length  = 32
  special = false
}

resource "google_sql_user" "catalog" {
  name     = local.catalog_db_user
  instance = google_sql_database_instance.catalog.name
  password = random_password.catalog_db.result
  # Protected environments: abandoned, never deleted, if Terraform drops it.
  deletion_policy = var.deletion_protection ? "ABANDON" : null
}

resource "google_secret_manager_secret" "catalog_db_password" {
  secret_id           = "${local.name_prefix}-nessie-db-password"
  deletion_protection = var.deletion_protection

  replication {
    auto {}
  }

  depends_on = [google_project_service.required]
}

resource "google_secret_manager_secret_version" "catalog_db_password" {
  secret          = google_secret_manager_secret.catalog_db_password.id
  secret_data     = random_password.catalog_db.result
  deletion_policy = var.deletion_protection ? "ABANDON" : "DELETE"
}
