# Shared by every scenario under testdata/guard: the real aws provider,
# offline. Credentials come from dummy environment variables set by the
# test, so none appear in the plan JSON; nothing here calls AWS because the
# plans are made with -refresh=false against a crafted state.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
