# Lakehouse bucket: uniform access, no public access, versioning, optional
# CMEK. Iceberg data and metadata live under gs://<bucket>/warehouse/.

resource "google_kms_key_ring" "lakehouse" {
  count    = var.gcp_enable_cmek ? 1 : 0
  name     = "${local.name_prefix}-lakehouse"
  location = lower(var.gcp_location)

  # Key rings can never be deleted in GCP; keep Terraform from trying.
  lifecycle {
    prevent_destroy = true
  }

  depends_on = [google_project_service.required]
}

resource "google_kms_crypto_key" "lakehouse" {
  count           = var.gcp_enable_cmek ? 1 : 0
  name            = "${local.name_prefix}-lakehouse"
  key_ring        = google_kms_key_ring.lakehouse[0].id
  rotation_period = "7776000s"

  # Destroying the key makes every object unreadable.
  lifecycle {
    prevent_destroy = true
  }
}

data "google_storage_project_service_account" "gcs" {
  count = var.gcp_enable_cmek ? 1 : 0
}

# Grant on the key only (not project-wide).
resource "google_kms_crypto_key_iam_member" "gcs_agent" {
  count         = var.gcp_enable_cmek ? 1 : 0
  crypto_key_id = google_kms_crypto_key.lakehouse[0].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs[0].email_address}"
}

resource "google_storage_bucket" "lakehouse" {
  name                        = local.bucket_name
  location                    = var.gcp_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  dynamic "encryption" {
    for_each = var.gcp_enable_cmek ? [1] : []
    content {
      default_kms_key_name = google_kms_crypto_key.lakehouse[0].id
    }
  }

  dynamic "logging" {
    for_each = var.enable_access_logging ? [1] : []
    content {
      log_bucket        = google_storage_bucket.access_logs[0].name
      log_object_prefix = local.bucket_name
    }
  }

  lifecycle_rule {
    condition {
      age = 7
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # Iceberg snapshot expiry deletes files; versions stay recoverable 30 days.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true

    precondition {
      condition     = var.gcp_project_id != ""
      error_message = "gcp_project_id must be set in environments/${var.environment}.tfvars for the gcp root."
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.gcs_agent]
}

# Usage/access logs (enable_access_logging).
resource "google_storage_bucket" "access_logs" {
  count                       = var.enable_access_logging ? 1 : 0
  name                        = "${local.name_prefix}-access-logs"
  location                    = var.gcp_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age = var.log_retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_storage_bucket_iam_member" "access_logs_writer" {
  count  = var.enable_access_logging ? 1 : 0
  bucket = google_storage_bucket.access_logs[0].name
  role   = "roles/storage.objectCreator"
  member = "group:cloud-storage-analytics@google.com"
}
