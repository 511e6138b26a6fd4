terraform {
  # 1.10+ for S3 native state locking (use_lockfile); 1.9+ for validations
  # that reference other variables.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # Partial configuration: bucket, region, use_lockfile and encrypt come from
  # backend.tfbackend; the per-environment key is passed at init by the
  # pipeline: -backend-config=key=iceberg-lakehouse/<env>/terraform.tfstate
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}
