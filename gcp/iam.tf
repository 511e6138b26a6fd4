# Service accounts: the catalog runtime, and the three identities Dagster
# uses (writer, reader, admin). Ids are "<project>-<env>-<role>", at most 30
# characters by construction (project_name <= 12, environment <= 10).

resource "google_service_account" "catalog" {
  account_id   = "${local.name_prefix}-nessie"
  display_name = "Nessie catalog (${local.name_prefix})"

  depends_on = [google_project_service.required]
}

resource "google_service_account" "dagster" {
  for_each     = toset(["writer", "reader", "admin"])
  account_id   = "${local.name_prefix}-${each.key}"
  display_name = "Dagster ${each.key} (${local.name_prefix})"

  depends_on = [google_project_service.required]
}

locals {
  bucket_roles = {
    catalog = { member = google_service_account.catalog.member, role = "roles/storage.objectUser" }
    writer  = { member = google_service_account.dagster["writer"].member, role = "roles/storage.objectUser" }
    reader  = { member = google_service_account.dagster["reader"].member, role = "roles/storage.objectViewer" }
    admin   = { member = google_service_account.dagster["admin"].member, role = "roles/storage.objectAdmin" }
  }
}

resource "google_storage_bucket_iam_member" "lakehouse" {
  for_each = local.bucket_roles
  bucket   = google_storage_bucket.lakehouse.name
  role     = each.value.role
  member   = each.value.member
}

# Catalog runtime reads its database password, nothing else.
resource "google_secret_manager_secret_iam_member" "catalog_db_password" {
  secret_id = google_secret_manager_secret.catalog_db_password.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.catalog.member
}

# Catalog access: invoker on the service (ready for when IAM invocation is
# switched on), and the admin may operate it (redeploy, read revisions).
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = google_service_account.dagster
  name     = google_cloud_run_v2_service.catalog.name
  location = google_cloud_run_v2_service.catalog.location
  role     = "roles/run.invoker"
  member   = each.value.member
}

resource "google_cloud_run_v2_service_iam_member" "admin_operator" {
  name     = google_cloud_run_v2_service.catalog.name
  location = google_cloud_run_v2_service.catalog.location
  role     = "roles/run.developer"
  member   = google_service_account.dagster["admin"].member
}

# The Dagster UI requires an identity token: the admin may open it
# (`gcloud run services proxy <dagster_webserver> --region <region>`).
resource "google_cloud_run_v2_service_iam_member" "dagster_webserver" {
  count    = local.dagster ? 1 : 0
  name     = google_cloud_run_v2_service.dagster_webserver[0].name
  location = google_cloud_run_v2_service.dagster_webserver[0].location
  role     = "roles/run.invoker"
  member   = google_service_account.dagster["admin"].member
}
