# Identities of the Dagster tasks. Task role: the writer role (iam.tf), which
# ECS tasks may assume when Dagster runs, plus what Dagster itself needs: its
# compute logs under dagster/ in the bucket and, for EcsRunLauncher, starting,
# watching and stopping run tasks of the run task definition in this cluster.
# Execution role (used by the ECS agent only): pull the release's image, write
# the Dagster log group, read the database secret, nothing else.

locals {
  # ECR repository of each release image pinned by digest, or null for other
  # registries (public images need no pull permission): the execution roles
  # may pull exactly that repository.
  ecr_image_reference = "^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^@]+)@"
  ecr_repository_arns = {
    for role, parts in {
      for role, image in { dagster = var.dagster_image, gate = var.gate_image } :
      role => try(regex(local.ecr_image_reference, image), null)
    } : role => parts == null ? null : format("arn:%s:ecr:%s:%s:repository/%s", data.aws_partition.current.partition, parts[1], parts[0], parts[2])
  }
  dagster_ecr_repository_arn = local.ecr_repository_arns["dagster"]

  cluster_task_arns = "arn:${data.aws_partition.current.partition}:ecs:${var.aws_region}:${data.aws_caller_identity.current.account_id}:task/${aws_ecs_cluster.catalog.name}/*"
}

# ECS tasks may assume the writer role only where Dagster runs in it.
data "aws_iam_policy_document" "writer_trust" {
  source_policy_documents = [data.aws_iam_policy_document.dagster_trust.json]

  statement {
    sid     = "DagsterTasks"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "dagster_execution" {
  count              = local.dagster ? 1 : 0
  name               = "${local.name_prefix}-dagster-exec"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

data "aws_iam_policy_document" "dagster_execution" {
  count = local.dagster ? 1 : 0

  dynamic "statement" {
    for_each = local.dagster_ecr_repository_arn == null ? [] : [1]
    content {
      sid       = "EcrLogin"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.dagster_ecr_repository_arn == null ? [] : [local.dagster_ecr_repository_arn]
    content {
      sid       = "PullReleaseImage"
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dagster[0].arn}:*"]
  }

  statement {
    sid       = "ReadDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.dagster_db_secret_arn]
  }
}

resource "aws_iam_role_policy" "dagster_execution" {
  count  = local.dagster ? 1 : 0
  name   = "${local.name_prefix}-dagster-exec"
  role   = aws_iam_role.dagster_execution[0].id
  policy = data.aws_iam_policy_document.dagster_execution[0].json
}

data "aws_iam_policy_document" "dagster_runtime" {
  count = local.dagster ? 1 : 0

  statement {
    sid       = "ComputeLogs"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${local.bucket_arn}/dagster/*"]
  }

  statement {
    sid       = "LaunchRunTasks"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${data.aws_partition.current.partition}:ecs:${var.aws_region}:${data.aws_caller_identity.current.account_id}:task-definition/${local.dagster_run_family}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.catalog.arn]
    }
  }

  statement {
    sid       = "TagRunTasks"
    actions   = ["ecs:TagResource"]
    resources = [local.cluster_task_arns]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "WatchAndStopRunTasks"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.cluster_task_arns]
  }

  # Neither call supports resource-level permissions.
  statement {
    sid       = "ReadTaskConfiguration"
    actions   = ["ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces"]
    resources = ["*"]
  }

  statement {
    sid       = "PassRunTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.dagster["writer"].arn, aws_iam_role.dagster_execution[0].arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "ReadRunTaskLogs"
    actions   = ["logs:GetLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dagster[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "dagster_runtime" {
  count  = local.dagster ? 1 : 0
  name   = "${local.name_prefix}-dagster-runtime"
  role   = aws_iam_role.dagster["writer"].id
  policy = data.aws_iam_policy_document.dagster_runtime[0].json
}
