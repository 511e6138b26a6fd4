# Test fixture standing in for the aws/ root: built-in resources only, so
# terraform init works offline, with the same partial S3 backend as aws/.
terraform {
  required_version = ">= 1.10"
  backend "s3" {}
}

variable "environment" {
  type = string
}

variable "project_name" {
  type = string
}

variable "cloud_provider" {
  type = string
}

# Changing it replaces terraform_data.slow (and reruns its provisioner).
variable "revision" {
  type    = string
  default = "1"
}

# Setting it to false plans the destruction of the stand-in data bucket.
variable "data_store_enabled" {
  type    = bool
  default = true
}

variable "api_token" {
  type      = string
  sensitive = true
  default   = "not-a-secret"
}

module "storage" {
  source  = "./modules/storage"
  name    = "${var.project_name}-${var.environment}-lakehouse"
  enabled = var.data_store_enabled
}

resource "terraform_data" "credentials" {
  input = var.api_token
}

# Its provisioner sleeps for $FIXTURE_APPLY_SLEEP seconds (0 when unset), so
# a test can keep an apply, and so the state lock, busy.
resource "terraform_data" "slow" {
  triggers_replace = var.revision

  provisioner "local-exec" {
    command = "sleep $${FIXTURE_APPLY_SLEEP:-0}"
  }
}

output "data_bucket" {
  value = module.storage.name
}

output "environment" {
  value = var.environment
}

output "api_token" {
  value     = var.api_token
  sensitive = true
}
