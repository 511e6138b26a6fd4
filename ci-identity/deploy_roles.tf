# One deploy (apply) role per environment: what a deploy job assumes in the
# GitHub environment "<env>" (variable AWS_DEPLOY_ROLE_ARN). That GitHub
# environment carries the approval rules, so the role trusts nothing else.

locals {
  deploy_trust_policy = { for e, v in local.env : e => jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActionsDeployEnvironment"
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.oidc_provider_arn }
      # Exact matches only (see plan_roles.tf): the plan environment
      # "<env>-plan", which pull requests reach, cannot assume this role.
      Condition = {
        StringEquals = {
          "${local.github_oidc_host}:aud" = local.github_oidc_audience
          "${local.github_oidc_host}:sub" = v.deploy_subject
        }
      }
    }]
  }) }

  # ARNs of what the aws root names after the environment (aws/locals.tf:
  # name_prefix = "<project_name>-<env>"). The trailing "-" keeps "<env>"
  # from matching a longer environment name starting with it.
  env_iam = { for e, v in local.env : e => {
    roles            = "arn:${local.partition}:iam::${local.account_id}:role/${v.name_prefix}-*"
    policies         = "arn:${local.partition}:iam::${local.account_id}:policy/${v.name_prefix}-*"
    instance_profile = "arn:${local.partition}:iam::${local.account_id}:instance-profile/${v.name_prefix}-*"
    bucket_objects   = "arn:${local.partition}:s3:::${v.name_prefix}-*/*"
  } }

  # What the deploy role may do, on top of PowerUserAccess (see the
  # attachment below for why that policy).
  #
  # The pipeline's verification inside the environment (deploy's smoke run
  # and quality gate as ECS tasks) calls: ecs:RunTask, ecs:DescribeTasks,
  # ecs:StopTask, ecs:DescribeServices, ecs:DescribeTaskDefinition,
  # iam:PassRole (the task's roles, granted below), logs:GetLogEvents on the
  # task's log group, s3:GetObject on the lakehouse bucket's quality/* and
  # kms:Decrypt with the lakehouse key (the reports are KMS-encrypted).
  # PowerUserAccess covers them; whoever replaces it with a narrower policy
  # must keep them.
  deploy_policy = { for e, v in local.env : e => jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # init/plan/apply: the state and its lock (use_lockfile).
        Sid      = "StateReadWrite"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = ["${local.bucket_arn}/${v.state_key}", "${local.bucket_arn}/${v.lock_key}"]
      },
      {
        # Listing: the environment's prefix (state and its own ledger) and
        # the upstream's ledger, which deploy/promote read to admit a release.
        Sid      = "ListStateAndLedgerPrefixes"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [local.bucket_arn]
        Condition = { StringLike = { "s3:prefix" = concat(
          ["${v.state_prefix}/*"],
          v.upstream_ledger_prefix == null ? [] : ["${v.upstream_ledger_prefix}/*"],
        ) } }
      },
      {
        # Its own ledger (revocations, the next sequence number) and the
        # upstream's (the evidence a release passed there). Only the
        # upstream named by promotion_upstream in its tfvars: promote
        # refuses any other source, so reading every ledger is not needed.
        Sid    = "ReadLedgers"
        Effect = "Allow"
        Action = ["s3:GetObject"]
        Resource = concat(
          ["${local.bucket_arn}/${v.ledger_prefix}/*"],
          v.upstream_ledger_prefix == null ? [] : ["${local.bucket_arn}/${v.upstream_ledger_prefix}/*"],
        )
      },
      {
        # Records its verdicts in its own ledger only (create-only writes).
        Sid      = "RecordOwnLedger"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = ["${local.bucket_arn}/${v.ledger_prefix}/*"]
      },
      {
        # PowerUserAccess excludes IAM. The aws root creates roles and
        # inline/attached policies named "<name_prefix>-…"; this grants
        # IAM on exactly those names (instance profiles too, should the
        # root add EC2 capacity).
        Sid    = "ManageEnvironmentIam"
        Effect = "Allow"
        Action = [
          "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
          "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
          "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
          "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies",
          "iam:ListInstanceProfilesForRole",
          "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
          "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
          "iam:TagPolicy", "iam:UntagPolicy", "iam:ListPolicyTags",
          "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
          "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
          "iam:TagInstanceProfile", "iam:UntagInstanceProfile", "iam:ListInstanceProfileTags",
        ]
        Resource = [local.env_iam[e].roles, local.env_iam[e].policies, local.env_iam[e].instance_profile]
      },
      {
        # Task definitions and RunTask hand the environment's roles to ECS
        # (execution and task roles); the aws root passes roles to no other
        # service. Add a service here if it starts to.
        Sid       = "PassEnvironmentRolesToEcs"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [local.env_iam[e].roles]
        Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      },
      {
        # PowerUserAccess reads every object of every bucket. Object reads
        # are limited to the environment's state prefix (state, lock, own
        # ledger), the upstream's ledger and the environment's own buckets
        # ("<name_prefix>-…": lakehouse, access logs, audit). Another
        # environment's state and ledger stay out of reach.
        Sid    = "DenyObjectReadsOutsideEnvironment"
        Effect = "Deny"
        Action = ["s3:GetObject*"]
        NotResource = concat(
          ["${local.bucket_arn}/${v.state_prefix}/*", local.env_iam[e].bucket_objects],
          v.upstream_ledger_prefix == null ? [] : ["${local.bucket_arn}/${v.upstream_ledger_prefix}/*"],
        )
      },
      {
        # Object writes only in its own state prefix and its own buckets: a
        # deploy role can never forge another environment's ledger entry
        # (which would admit a release there) or touch its state.
        Sid         = "DenyObjectWritesOutsideEnvironment"
        Effect      = "Deny"
        Action      = ["s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject", "s3:ReplicateObject", "s3:ReplicateDelete"]
        NotResource = ["${local.bucket_arn}/${v.state_prefix}/*", local.env_iam[e].bucket_objects]
      },
      {
        # Nor the state bucket itself: no bucket policy, lifecycle rule,
        # versioning, replication or deletion (a lifecycle rule could expire
        # every environment's state). The bucket ARN matches bucket-level
        # actions only; object actions are the statements above.
        Sid      = "DenyStateBucketConfiguration"
        Effect   = "Deny"
        Action   = ["s3:Put*", "s3:Delete*"]
        Resource = [local.bucket_arn]
      },
      {
        # The ledger is append-only: a revocation is a new entry, nothing
        # is ever deleted.
        Sid      = "DenyLedgerDeletes"
        Effect   = "Deny"
        Action   = ["s3:DeleteObject*"]
        Resource = ["${local.bucket_arn}/${v.ledger_prefix}/*"]
      },
    ]
  }) }
}

resource "aws_iam_role" "deploy" {
  for_each = local.env

  name                 = each.value.deploy_role_name
  path                 = local.role_path
  description          = "deploy/apply of ${each.key} from GitHub Actions (environment ${each.value.deploy_github_environment})"
  assume_role_policy   = local.deploy_trust_policy[each.key]
  max_session_duration = var.deploy_max_session_hours * 3600

  tags = {
    Environment       = each.key
    GitHubEnvironment = each.value.deploy_github_environment
    Purpose           = "deploy"
  }

  lifecycle {
    precondition {
      condition     = local.declared[each.key].project_name != null
      error_message = "environments/${each.key}.tfvars has no line project_name = \"...\": the role names and IAM scopes are built from it."
    }
    precondition {
      # The deploy role may write objects in buckets named "<name_prefix>-…":
      # a state bucket named like that would open every environment's state.
      condition     = !startswith(local.state_bucket, "${each.value.name_prefix}-")
      error_message = "The state bucket ${local.state_bucket} starts with ${each.value.name_prefix}-, the prefix of the buckets the ${each.key} deploy role may write: use a state bucket named outside every environment's prefix."
    }
  }
}

# Why PowerUserAccess: the aws root manages S3, KMS, ECS, RDS, ELB, EC2/VPC,
# CloudWatch logs and alarms, SNS, Secrets Manager, Service Discovery,
# CloudTrail, DynamoDB and Application Auto Scaling, and new resources in it
# should not need a change here first. PowerUserAccess is every service but
# IAM, Organizations and Account management (it keeps
# iam:CreateServiceLinkedRole, which ECS, ELB, RDS and Auto Scaling need on
# first use); IAM comes from the inline policy, scoped to the environment's
# names. The Deny statements keep S3 objects to the environment's own.
#
# What it does not isolate: in an account shared by several environments, a
# deploy role can change another environment's non-IAM resources, and the
# roles it creates can be given any permission. The GitHub environment's
# reviewers and branch rules are what guard it; put each environment in its
# own account (or add a permissions boundary) for a hard separation.
resource "aws_iam_role_policy_attachment" "deploy_power_user" {
  for_each = local.env

  role       = aws_iam_role.deploy[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.env

  name   = "environment-deploy"
  role   = aws_iam_role.deploy[each.key].name
  policy = local.deploy_policy[each.key]
}
