# State (state.json): buckets lakehouse, audit, staging and scratch exist;
# the first three have lifecycle configurations. Each resource below is one
# case for the guard:
#   lakehouse  noncurrent versions expire after 7 days instead of 30: refused
#   audit      expiration 400 -> 730 days, earlier transition, a tag: passes
#   staging    a new rule expires tmp/ after 7 days: refused
#   scratch    a first lifecycle configuration on a bucket with data: refused
#   fresh      a new bucket with its lifecycle configuration: passes
resource "aws_s3_bucket" "lakehouse" {
  bucket = "lakehouse-dev-lakehouse"
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

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    expiration {
      expired_object_delete_marker = true
    }
  }
}

resource "aws_s3_bucket" "audit" {
  bucket = "lakehouse-dev-audit"
  tags = {
    team = "data"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id

  rule {
    id     = "retention"
    status = "Enabled"
    filter {}
    transition {
      days          = 60
      storage_class = "GLACIER_IR"
    }
    expiration {
      days = 730
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }
}

resource "aws_s3_bucket" "staging" {
  bucket = "lakehouse-dev-staging"
}

resource "aws_s3_bucket_lifecycle_configuration" "staging" {
  bucket = aws_s3_bucket.staging.id

  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-tmp"
    status = "Enabled"
    filter {
      prefix = "tmp/"
    }
    expiration {
      days = 7
    }
  }
}

resource "aws_s3_bucket" "scratch" {
  bucket = "lakehouse-dev-scratch"
}

resource "aws_s3_bucket_lifecycle_configuration" "scratch" {
  bucket = aws_s3_bucket.scratch.id

  rule {
    id     = "expire-everything"
    status = "Enabled"
    filter {}
    expiration {
      days = 1
    }
  }
}

resource "aws_s3_bucket" "fresh" {
  bucket = "lakehouse-dev-fresh"
}

resource "aws_s3_bucket_lifecycle_configuration" "fresh" {
  bucket = aws_s3_bucket.fresh.id

  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = 30
    }
  }
}
