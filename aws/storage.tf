# Lakehouse bucket: versioned, SSE-KMS with a customer-managed key, private,
# TLS-only. Iceberg data and metadata live under s3://<bucket>/warehouse/.

resource "aws_kms_key" "lakehouse" {
  description             = "${local.name_prefix} lakehouse bucket encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  # Losing the key loses the data: never destroy it with the environment.
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "lakehouse" {
  name          = "alias/${local.name_prefix}-lakehouse"
  target_key_id = aws_kms_key.lakehouse.key_id
}

resource "aws_s3_bucket" "lakehouse" {
  bucket = local.bucket_name

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "lakehouse" {
  bucket = aws_s3_bucket.lakehouse.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "lakehouse" {
  bucket                  = aws_s3_bucket.lakehouse.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "lakehouse" {
  bucket = aws_s3_bucket.lakehouse.id

  versioning_configuration {
    status = "Enabled"
  }
}

# Default encryption applies SSE-KMS to every object, including writes that
# send no x-amz-server-side-encryption header (PyIceberg, PyArrow, DuckDB).
resource "aws_s3_bucket_server_side_encryption_configuration" "lakehouse" {
  bucket = aws_s3_bucket.lakehouse.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.lakehouse.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "lakehouse" {
  bucket = aws_s3_bucket.lakehouse.id

  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Iceberg snapshot expiry deletes files; versioning keeps them recoverable
  # for 30 days, then the noncurrent versions go.
  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.lakehouse]
}

# TLS-only. Deliberately no "deny PutObject without an SSE header" statement:
# such a statement (StringNotEquals on s3:x-amz-server-side-encryption) also
# denies SDK writers that rely on bucket default encryption. Only an explicit
# request for a weaker algorithm is refused (the IfExists form lets requests
# without the header through, and default encryption then applies SSE-KMS).
data "aws_iam_policy_document" "lakehouse_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.lakehouse.arn,
      "${aws_s3_bucket.lakehouse.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyExplicitNonKmsEncryption"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.lakehouse.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }
}

resource "aws_s3_bucket_policy" "lakehouse" {
  bucket = aws_s3_bucket.lakehouse.id
  policy = data.aws_iam_policy_document.lakehouse_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.lakehouse]
}

# S3 checks that the logging service may write to the target before it turns
# logging on: the access-log bucket's policy must exist first (as for the
# load balancers' access logs).
resource "aws_s3_bucket_logging" "lakehouse" {
  count         = var.enable_access_logging ? 1 : 0
  bucket        = aws_s3_bucket.lakehouse.id
  target_bucket = aws_s3_bucket.access_logs[0].id
  target_prefix = local.access_log_prefix

  depends_on = [aws_s3_bucket_policy.access_logs]
}
