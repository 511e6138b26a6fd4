# Roles: the Nessie task/execution roles, and the three roles Dagster assumes
# (writer, reader, admin) with the S3/KMS permissions each really needs.
# Nessie itself runs without authentication; catalog access is limited by the
# network (internal ALB, aws_catalog_allowed_cidrs). The admin role also gets
# the operational catalog permissions (service restarts, logs, backups).

locals {
  bucket_arn  = aws_s3_bucket.lakehouse.arn
  objects_arn = "${aws_s3_bucket.lakehouse.arn}/*"
  trusted_principals = length(var.aws_trusted_principal_arns) > 0 ? var.aws_trusted_principal_arns : [
    "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  ]

  s3_read_actions  = ["s3:GetObject", "s3:GetObjectVersion"]
  s3_write_actions = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
  kms_read_actions = ["kms:Decrypt", "kms:DescribeKey"]
  kms_write        = ["kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"]
}

# ---------------------------------------------------------- Nessie tasks --

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
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

resource "aws_iam_role" "catalog_execution" {
  name               = "${local.name_prefix}-nessie-exec"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

resource "aws_iam_role_policy_attachment" "catalog_execution" {
  role       = aws_iam_role.catalog_execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "catalog_task" {
  name               = "${local.name_prefix}-nessie-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

data "aws_iam_policy_document" "catalog_task" {
  statement {
    sid = "VersionStore"
    actions = [
      "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
      "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
    ]
    resources = [aws_dynamodb_table.catalog_refs.arn, aws_dynamodb_table.catalog_objs.arn]
  }

  statement {
    sid       = "WarehouseList"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "WarehouseObjects"
    actions   = concat(local.s3_read_actions, local.s3_write_actions)
    resources = [local.objects_arn]
  }

  statement {
    sid       = "WarehouseKey"
    actions   = concat(local.kms_read_actions, local.kms_write)
    resources = [aws_kms_key.lakehouse.arn]
  }
}

resource "aws_iam_role_policy" "catalog_task" {
  name   = "${local.name_prefix}-nessie-task"
  role   = aws_iam_role.catalog_task.id
  policy = data.aws_iam_policy_document.catalog_task.json
}

# ------------------------------------------------ Dagster writer/reader/admin --

data "aws_iam_policy_document" "dagster_trust" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "AWS"
      identifiers = local.trusted_principals
    }
  }
}

resource "aws_iam_role" "dagster" {
  for_each = toset(["writer", "reader", "admin"])
  name     = "${local.name_prefix}-lakehouse-${each.key}"
  # The writer is also the Dagster tasks' role where Dagster runs (dagster_iam.tf).
  assume_role_policy   = each.key == "writer" && local.dagster ? data.aws_iam_policy_document.writer_trust.json : data.aws_iam_policy_document.dagster_trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "reader" {
  statement {
    sid       = "ListWarehouse"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.bucket_arn]
  }
  statement {
    sid       = "ReadWarehouse"
    actions   = local.s3_read_actions
    resources = [local.objects_arn]
  }
  statement {
    sid       = "DecryptWarehouse"
    actions   = local.kms_read_actions
    resources = [aws_kms_key.lakehouse.arn]
  }
}

data "aws_iam_policy_document" "writer" {
  source_policy_documents = [data.aws_iam_policy_document.reader.json]

  statement {
    sid       = "WriteWarehouse"
    actions   = local.s3_write_actions
    resources = ["${local.bucket_arn}/${local.warehouse_prefix}/*"]
  }
  statement {
    sid       = "EncryptWarehouse"
    actions   = local.kms_write
    resources = [aws_kms_key.lakehouse.arn]
  }
}

data "aws_iam_policy_document" "admin" {
  source_policy_documents = [data.aws_iam_policy_document.writer.json]

  statement {
    sid       = "ManageWarehouseObjects"
    actions   = concat(local.s3_write_actions, ["s3:DeleteObjectVersion", "s3:RestoreObject", "s3:PutObjectTagging"])
    resources = [local.objects_arn]
  }
  statement {
    sid       = "InspectWarehouse"
    actions   = ["s3:ListBucketVersions", "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration", "s3:GetBucketPolicy"]
    resources = [local.bucket_arn]
  }
  statement {
    sid       = "OperateCatalogService"
    actions   = ["ecs:DescribeServices", "ecs:UpdateService", "ecs:ListTasks", "ecs:DescribeTasks"]
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.catalog.arn]
    }
  }
  statement {
    sid       = "ReadCatalogLogs"
    actions   = ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.catalog.arn}:*"]
  }
  statement {
    sid       = "BackupCatalogState"
    actions   = ["dynamodb:DescribeTable", "dynamodb:CreateBackup", "dynamodb:DescribeContinuousBackups", "dynamodb:ListBackups"]
    resources = [aws_dynamodb_table.catalog_refs.arn, aws_dynamodb_table.catalog_objs.arn]
  }
}

locals {
  dagster_policies = {
    writer = data.aws_iam_policy_document.writer.json
    reader = data.aws_iam_policy_document.reader.json
    admin  = data.aws_iam_policy_document.admin.json
  }
}

resource "aws_iam_role_policy" "dagster" {
  for_each = aws_iam_role.dagster
  name     = "${local.name_prefix}-lakehouse-${each.key}"
  role     = each.value.id
  policy   = local.dagster_policies[each.key]
}
