# One plan role per environment: what terraform-plan.yml and drift.yml
# assume in the GitHub environment "<env>-plan" (variable AWS_PLAN_ROLE_ARN).

locals {
  plan_trust_policy = { for e, v in local.env : e => jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActionsPlanEnvironment"
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.oidc_provider_arn }
      # Exact matches only: StringEquals on the full subject, never
      # StringLike, so no other branch, pull request or GitHub environment
      # (the deploy environment "<env>" included) can assume this role.
      Condition = {
        StringEquals = {
          "${local.github_oidc_host}:aud" = local.github_oidc_audience
          "${local.github_oidc_host}:sub" = v.plan_subject
        }
      }
    }]
  }) }

  plan_policy = { for e, v in local.env : e => jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # terraform init/plan/drift read the environment's state.
        Sid      = "ReadState"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${local.bucket_arn}/${v.state_key}"]
      },
      {
        # A plan takes the state lock (use_lockfile): it creates the lock
        # object with a conditional write, reads it, and deletes it at the end.
        Sid      = "StateLock"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = ["${local.bucket_arn}/${v.lock_key}"]
      },
      {
        # Listing, only under the environment's prefix. (Terraform also
        # lists the default workspace prefix "env:/" and ignores the
        # AccessDenied since 1.7.) ReadOnlyAccess lists the whole bucket, so
        # this matters to whoever replaces it with a narrower policy.
        Sid       = "ListStatePrefix"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [local.bucket_arn]
        Condition = { StringLike = { "s3:prefix" = ["${v.state_prefix}/*"] } }
      },
      {
        # The plan role never writes the state, whatever else is attached.
        Sid      = "DenyStateWrites"
        Effect   = "Deny"
        Action   = ["s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject"]
        Resource = ["${local.bucket_arn}/${v.state_key}"]
      },
      {
        # ReadOnlyAccess reads every object of every bucket: other
        # environments' state and every bucket's data. A plan refreshes
        # buckets (bucket-level s3:GetBucket* calls), never their objects, so
        # object reads are denied except the state and its lock.
        Sid         = "DenyObjectReadsButState"
        Effect      = "Deny"
        Action      = ["s3:GetObject*"]
        NotResource = ["${local.bucket_arn}/${v.state_key}", "${local.bucket_arn}/${v.lock_key}"]
      },
      {
        # Nor the data plane of what it refreshes: the catalog's DynamoDB
        # items and the services' logs (a refresh only describes tables and
        # log groups).
        Sid    = "DenyDataReads"
        Effect = "Deny"
        Action = [
          "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect",
          "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:StartLiveTail",
          "secretsmanager:GetSecretValue",
        ]
        Resource = ["*"]
      },
    ]
  }) }
}

resource "aws_iam_role" "plan" {
  for_each = local.env

  name                 = each.value.plan_role_name
  path                 = local.role_path
  description          = "terraform plan/drift of ${each.key} from GitHub Actions (environment ${each.value.plan_github_environment})"
  assume_role_policy   = local.plan_trust_policy[each.key]
  max_session_duration = 3600

  tags = {
    Environment       = each.key
    GitHubEnvironment = each.value.plan_github_environment
    Purpose           = "plan"
  }

  lifecycle {
    precondition {
      condition     = local.declared[each.key].project_name != null
      error_message = "environments/${each.key}.tfvars has no line project_name = \"...\": the role names and IAM scopes are built from it."
    }
  }
}

# Why ReadOnlyAccess: a plan refreshes every resource the aws root manages
# (S3, KMS, IAM, ECS, RDS, ELB, EC2/VPC, CloudWatch, SNS, Secrets Manager,
# Service Discovery, CloudTrail, DynamoDB, Application Auto Scaling …), and
# refreshing calls Get*/Describe*/List* across all of them; ViewOnlyAccess
# lacks the Get* calls (bucket policies, role policies, key policies).
# AWS maintains the list as services add read calls. Its reach beyond
# metadata is cut by the Deny statements of the inline policy above
# (objects, DynamoDB items, log events, secret values).
resource "aws_iam_role_policy_attachment" "plan_read_only" {
  for_each = local.env

  role       = aws_iam_role.plan[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "plan" {
  for_each = local.env

  name   = "terraform-state"
  role   = aws_iam_role.plan[each.key].name
  policy = local.plan_policy[each.key]
}
