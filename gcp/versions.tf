terraform {
  # Same floor as aws/ so one toolchain serves both roots.
  required_version = ">= 1.10"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial configuration: the bucket comes from backend.tfbackend; the
  # per-environment prefix is passed at init by the pipeline:
  #   -backend-config=prefix=iceberg-lakehouse/<env>
  # GCS locks state natively.
  backend "gcs" {}
}

provider "google" {
  project = var.gcp_project_id
  region  = var.gcp_region

  default_labels = local.labels
}
