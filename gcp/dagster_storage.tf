# Dagster's run, event and schedule storage: database "dagster" and its own
# user on the catalog's Cloud SQL instance (private IP, TLS required, backups
# and point-in-time recovery from catalog_store.tf). The password is
# generated, kept in Secret Manager and injected into Cloud Run as a secret;
# it never appears in code, tfvars or outputs (it does live in the encrypted
# remote state, like the catalog's). Where the environment is protected
# (deletion_protection) the database, user, secret and its version are
# abandoned rather than deleted if Terraform ever drops them, and the
# pipeline's guard refuses deleting or replacing them.

resource "google_sql_database" "dagster" {
  count    = local.dagster ? 1 : 0
  name     = local.dagster_db_name
  instance = google_sql_database_instance.catalog.name
  # Run history outlives a configuration mistake in protected environments.
  deletion_policy = var.deletion_protection ? "ABANDON" : "DELETE"
}

resource "random_password" "dagster_db" {
  count   = local.dagster ? 1 : 0
  length  = 32
  special = false
}

resource "google_sql_user" "dagster" {
  count           = local.dagster ? 1 : 0
  name            = local.dagster_db_user
  instance        = google_sql_database_instance.catalog.name
  password        = random_password.dagster_db[0].result
  deletion_policy = var.deletion_protection ? "ABANDON" : null
}

resource "google_secret_manager_secret" "dagster_db_password" {
  count               = local.dagster ? 1 : 0
  secret_id           = "${local.name_prefix}-dagster-db-password"
  deletion_protection = var.deletion_protection

  replication {
    auto {}
  }

  depends_on = [google_project_service.required]
}

resource "google_secret_manager_secret_version" "dagster_db_password" {
  count           = local.dagster ? 1 : 0
  secret          = google_secret_manager_secret.dagster_db_password[0].id
  secret_data     = random_password.dagster_db[0].result
  deletion_policy = var.deletion_protection ? "ABANDON" : "DELETE"
}

# The Dagster services run as the writer and read this one secret.
resource "google_secret_manager_secret_iam_member" "dagster_db_password" {
  count     = local.dagster ? 1 : 0
  secret_id = google_secret_manager_secret.dagster_db_password[0].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.dagster["writer"].member
}
