# Everything here is derived from files the rest of the repository already
# owns: the environments are environments/*.tfvars, the state bucket and its
# region are aws/backend.tfbackend, the state keys and ledger prefixes follow
# the pipeline (pipelines/terraform.BackendFor, pipelines/promotion.LedgerPrefix).
# No environment name is written in this root.

locals {
  environments_dir = "${path.module}/../environments"
  backend_file     = file("${path.module}/../aws/backend.tfbackend")

  # Every environments/<env>.tfvars, by file stem. A stem the pipeline would
  # reject (pipelines/environment: 2-10 lowercase letters and digits,
  # starting with a letter) gets no roles; the environment_files check
  # names it, and lint/test fail on it anyway.
  environment_files         = sort([for f in fileset(local.environments_dir, "*.tfvars") : trimsuffix(f, ".tfvars")])
  all_environments          = [for e in local.environment_files : e if can(regex("^[a-z][a-z0-9]{1,9}$", e))]
  invalid_environment_files = [for e in local.environment_files : "environments/${e}.tfvars" if !contains(local.all_environments, e)]

  # The environments that get roles: those whose file deploys to AWS
  # (cloud_provider = "aws"; GCP environments authenticate through workload
  # identity federation, see the README), or the subset asked for
  # (validated against the files by var.environments).
  aws_environments = [for e in local.all_environments : e if local.declared[e].cloud_provider == "aws"]
  environments     = var.environments == null ? local.aws_environments : sort(distinct(var.environments))

  # aws/backend.tfbackend is HCL attributes: bucket = "…", region = "…".
  # A missing attribute fails here ("pattern did not match"): set the
  # variable instead.
  state_bucket = var.state_bucket != null ? var.state_bucket : regex("(?m)^[ \\t]*bucket[ \\t]*=[ \\t]*\"([^\"]+)\"", local.backend_file)[0]
  region       = var.region != null ? var.region : regex("(?m)^[ \\t]*region[ \\t]*=[ \\t]*\"([^\"]+)\"", local.backend_file)[0]

  # pipelines/terraform.StateProject: the first element of every state key
  # and ledger prefix (tests/infra/ci_identity_test.go keeps them equal).
  state_project = "iceberg-lakehouse"

  # What each environment file says, read with regular expressions on the
  # file (terraform cannot load a .tfvars as data). One attribute per line,
  # as terraform fmt writes them.
  tfvars = { for e in local.all_environments : e => file("${local.environments_dir}/${e}.tfvars") }
  declared = { for e, src in local.tfvars : e => {
    project_name      = try(regex("(?m)^[ \\t]*project_name[ \\t]*=[ \\t]*\"([^\"]*)\"", src)[0], null)
    cloud_provider    = try(regex("(?m)^[ \\t]*cloud_provider[ \\t]*=[ \\t]*\"([^\"]*)\"", src)[0], null)
    upstream          = try(regex("(?m)^[ \\t]*promotion_upstream[ \\t]*=[ \\t]*\"([^\"]*)\"", src)[0], "")
    requires_approval = try(regex("(?m)^[ \\t]*promotion_requires_approval[ \\t]*=[ \\t]*(true|false)\\b", src)[0], "false") == "true"
    aws_region        = try(regex("(?m)^[ \\t]*aws_region[ \\t]*=[ \\t]*\"([^\"]+)\"", src)[0], local.region)
  } }

  # aws/locals.tf: name_prefix = "<project_name>-<environment>"; every IAM
  # role and policy the aws root creates is named "<name_prefix>-…", every
  # bucket too. Empty when the file has no project_name (the roles'
  # preconditions then fail with the file's name).
  name_prefix = { for e, d in local.declared : e => d.project_name == null ? "" : "${d.project_name}-${e}" }

  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  bucket_arn = "arn:${local.partition}:s3:::${local.state_bucket}"

  # GitHub's OIDC issuer and the audience aws-actions/configure-aws-credentials asks for.
  github_oidc_host     = "token.actions.githubusercontent.com"
  github_oidc_audience = "sts.amazonaws.com"
  oidc_provider_arn    = var.github_oidc_provider_arn != null ? var.github_oidc_provider_arn : aws_iam_openid_connect_provider.github[0].arn

  # The CI roles live under their own path and their names start with "ci-",
  # so no environment's IAM statement ("role/<name_prefix>-*") can ever match
  # them: a deploy role cannot rewrite its own or another CI role.
  role_path = "/github-actions/"

  env = { for e in local.environments : e => {
    name_prefix = local.name_prefix[e]
    upstream    = local.declared[e].upstream

    # GitHub environments: plan and drift jobs run in "<env>-plan", deploys in "<env>".
    plan_github_environment   = "${e}-plan"
    deploy_github_environment = e
    plan_subject              = "repo:${var.github_repository}:environment:${e}-plan"
    deploy_subject            = "repo:${var.github_repository}:environment:${e}"

    plan_role_name   = "ci-${local.name_prefix[e]}-plan"
    deploy_role_name = "ci-${local.name_prefix[e]}-deploy"

    # pipelines/terraform.BackendFor(env, AWS): key and its lock object
    # (use_lockfile writes "<key>.tflock" while the lock is held).
    state_prefix = "${local.state_project}/${e}"
    state_key    = "${local.state_project}/${e}/terraform.tfstate"
    lock_key     = "${local.state_project}/${e}/terraform.tfstate.tflock"

    # pipelines/promotion.LedgerPrefix: the ledger beside the state; the
    # ledger tool lists "<prefix>/" and reads/creates "<prefix>/NNNNNN.json".
    ledger_prefix          = "${local.state_project}/${e}/releases"
    upstream_ledger_prefix = local.declared[e].upstream == "" ? null : "${local.state_project}/${local.declared[e].upstream}/releases"
  } }
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

check "environment_files" {
  assert {
    condition     = length(local.invalid_environment_files) == 0
    error_message = "These environment files have names the pipeline rejects and got no CI roles: ${join(", ", local.invalid_environment_files)}. Rename them (2-10 lowercase letters and digits, starting with a letter)."
  }
}

check "state_bucket_is_set" {
  assert {
    condition     = !startswith(local.state_bucket, "replace-me")
    error_message = "The state bucket is still the placeholder \"${local.state_bucket}\": edit aws/backend.tfbackend (or set state_bucket) before applying, or the roles grant access to the wrong bucket."
  }
}
