variable "github_repository" {
  description = "The repository whose workflows assume the roles, as owner/name exactly as GitHub spells it (the OIDC subject is case-sensitive), e.g. my-org/iceberg-lakehouse."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be owner/name (e.g. my-org/iceberg-lakehouse), without https://github.com/ and without wildcards."
  }
}

variable "github_oidc_provider_arn" {
  description = "ARN of an existing IAM OIDC provider for https://token.actions.githubusercontent.com (an account holds at most one per URL). null: this root creates it."
  type        = string
  default     = null

  validation {
    condition     = var.github_oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github_oidc_provider_arn))
    error_message = "github_oidc_provider_arn must be the ARN of the token.actions.githubusercontent.com provider: arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com."
  }
}

variable "environments" {
  description = "Restrict the roles to these environments (names of environments/<env>.tfvars that deploy to aws). null: every environment file with cloud_provider = \"aws\"."
  type        = list(string)
  default     = null

  validation {
    condition     = var.environments == null || try(length(var.environments) > 0, false)
    error_message = "environments must name at least one environment, or be null for all of them."
  }

  validation {
    condition     = var.environments == null || alltrue([for e in coalesce(var.environments, []) : contains(local.all_environments, e)])
    error_message = "Every name in environments must be an environment file environments/<env>.tfvars (with a valid name: 2-10 lowercase letters and digits, starting with a letter)."
  }

  validation {
    condition     = var.environments == null || alltrue([for e in coalesce(var.environments, []) : contains(local.aws_environments, e)])
    error_message = "Every name in environments must deploy to aws (cloud_provider = \"aws\" in its file): these roles are AWS IAM roles."
  }
}

variable "state_bucket" {
  description = "The Terraform state bucket (also holds the release ledgers). null: the bucket attribute of ../aws/backend.tfbackend."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "state_bucket must be an S3 bucket name."
  }
}

variable "region" {
  description = "Region of the provider (IAM is global). null: the region attribute of ../aws/backend.tfbackend."
  type        = string
  default     = null
}

variable "deploy_max_session_hours" {
  description = "Longest session a deploy role allows (1-12 hours). An apply that creates or replaces the Dagster database can outlast the 1 hour default; the workflow asks for it with role-duration-seconds."
  type        = number
  default     = 4

  validation {
    condition     = var.deploy_max_session_hours >= 1 && var.deploy_max_session_hours <= 12 && floor(var.deploy_max_session_hours) == var.deploy_max_session_hours
    error_message = "deploy_max_session_hours must be a whole number of hours between 1 and 12."
  }
}
