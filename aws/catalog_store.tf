# Nessie version store on DynamoDB (nessie.version.store.type = DYNAMODB2).
# Nessie's DYNAMODB2 backend reads "<table-prefix>_refs" and
# "<table-prefix>_objs", each with a single string hash key named "k"; it only
# creates them when missing. Creating them here lets us protect them
# (prevent_destroy, point-in-time recovery) and give the task role no
# dynamodb:CreateTable.

resource "aws_dynamodb_table" "catalog_refs" {
  name         = "${local.catalog_table_prefix}_refs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "k"

  attribute {
    name = "k"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  deletion_protection_enabled = var.deletion_protection

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_dynamodb_table" "catalog_objs" {
  name         = "${local.catalog_table_prefix}_objs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "k"

  attribute {
    name = "k"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  deletion_protection_enabled = var.deletion_protection

  lifecycle {
    prevent_destroy = true
  }
}
