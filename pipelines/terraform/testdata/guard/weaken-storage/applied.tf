# Applied to moto to make state.json (how: guardScenarios in
# host_guard_test.go): three buckets as the roots build them: versioning, a
# public access block, a TLS-only policy, object lock.
locals {
  buckets = {
    lakehouse = { lock = true }
    audit     = { lock = true }
    scratch   = { lock = false }
  }
}

resource "aws_s3_bucket" "this" {
  for_each            = local.buckets
  bucket              = "zzfixture-${each.key}"
  object_lock_enabled = each.value.lock
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = each.key == "scratch" ? "Suspended" : "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "DenyExplicitNonKmsEncryption"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.this[each.key].arn}/*"
        Condition = { StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption" = "aws:kms" } }
      },
    ]
  })
}

resource "aws_s3_bucket_object_lock_configuration" "lakehouse" {
  bucket = aws_s3_bucket.this["lakehouse"].id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = 30
    }
  }
}

resource "aws_s3_bucket_object_lock_configuration" "audit" {
  bucket = aws_s3_bucket.this["audit"].id
  rule {
    default_retention {
      mode  = "GOVERNANCE"
      years = 1
    }
  }
}
