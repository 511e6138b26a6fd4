# State (state.json, made by applying applied.tf to moto): buckets
# lakehouse, audit and scratch, each with versioning, a public access block
# and a policy of two deny statements (TLS only; no explicit non-KMS
# encryption); lakehouse and audit with object lock. This configuration
# changes them in place; each case for the guard:
#   lakehouse  versioning suspended: refused
#              block_public_policy off: refused
#              the TLS-only deny statement removed: refused
#              object lock COMPLIANCE 30 days -> GOVERNANCE 7 days: refused
#   audit      ignore_public_acls and restrict_public_buckets off: refused
#              the TLS-only deny no longer covers objects, the encryption
#              deny's condition changed: refused
#              object lock 1 year -> 400 days: passes
#   scratch    versioning Suspended -> Enabled; policy statements renamed,
#              reordered, one widened and one added: passes
locals {
  buckets = {
    lakehouse = { lock = true, versioning = "Suspended", public = ["block_public_policy"] }
    audit     = { lock = true, versioning = "Enabled", public = ["ignore_public_acls", "restrict_public_buckets"] }
    scratch   = { lock = false, versioning = "Enabled", public = [] }
  }
  tls_only = {
    for k in keys(local.buckets) : k => {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this[k].arn, "${aws_s3_bucket.this[k].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }
  }
  kms_only = {
    for k in keys(local.buckets) : k => {
      Sid       = "DenyExplicitNonKmsEncryption"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:PutObject"
      Resource  = "${aws_s3_bucket.this[k].arn}/*"
      Condition = { StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption" = "aws:kms" } }
    }
  }
  statements = {
    lakehouse = [local.kms_only["lakehouse"]]
    audit = [
      merge(local.tls_only["audit"], { Resource = aws_s3_bucket.this["audit"].arn }),
      merge(local.kms_only["audit"], { Condition = { StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption" = ["aws:kms", "AES256"] } } }),
    ]
    scratch = [
      merge(local.kms_only["scratch"], { Sid = "KmsOnly", Action = ["s3:PutObject", "s3:ReplicateObject"] }),
      merge(local.tls_only["scratch"], { Sid = "TlsOnly" }),
      {
        Sid       = "DenyDeleteBucket"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:DeleteBucket"
        Resource  = aws_s3_bucket.this["scratch"].arn
      },
    ]
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
    status = each.value.versioning
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = !contains(each.value.public, "block_public_acls")
  block_public_policy     = !contains(each.value.public, "block_public_policy")
  ignore_public_acls      = !contains(each.value.public, "ignore_public_acls")
  restrict_public_buckets = !contains(each.value.public, "restrict_public_buckets")
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  policy   = jsonencode({ Version = "2012-10-17", Statement = local.statements[each.key] })
}

resource "aws_s3_bucket_object_lock_configuration" "lakehouse" {
  bucket = aws_s3_bucket.this["lakehouse"].id
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = 7
    }
  }
}

resource "aws_s3_bucket_object_lock_configuration" "audit" {
  bucket = aws_s3_bucket.this["audit"].id
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = 400
    }
  }
}
