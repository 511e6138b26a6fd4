# State (state.json): the lakehouse bucket with versioning, a TLS-only
# policy, a public access block, default SSE-KMS encryption, object lock
# retention and a KMS alias. This configuration keeps only the bucket, with
# a changed tag, so the plan deletes everything else.
resource "aws_s3_bucket" "lakehouse" {
  bucket = "lakehouse-dev-lakehouse"
  tags = {
    team = "data"
  }
}
