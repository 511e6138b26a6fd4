terraform {
  # 1.10+ like aws/: the state this root grants access to uses S3 native
  # locking (use_lockfile), and validations reference other objects (1.9+).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      # The same constraint as aws/versions.tf, so aws/.terraform.lock.hcl
      # (copied here as .terraform.lock.hcl) is valid for this root too.
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # No backend block: the state stays local (terraform.tfstate here, ignored
  # by git). README.md says how to keep it, or how to move it to S3 with a
  # partial backend, outside every environment's prefix.
}

provider "aws" {
  # IAM is global; the region only chooses the STS/IAM endpoint.
  region = local.region

  default_tags {
    tags = {
      ManagedBy = "terraform"
      Stack     = "ci-identity"
    }
  }
}
