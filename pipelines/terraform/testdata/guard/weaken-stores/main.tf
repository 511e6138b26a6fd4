# State (state.json, made by applying applied.tf to moto): DynamoDB tables
# refs, objs and meta with point-in-time recovery (35 days) and deletion
# protection; a Postgres instance and an Aurora cluster with 7-day backups,
# deletion protection and a final snapshot. Each case for the guard:
#   catalog["refs"]  point-in-time recovery off, deletion protection off: refused
#   catalog["objs"]  recovery window 35 -> 7 days: refused
#   catalog["meta"]  a tag: passes
#   dagster          deletion protection off, backups 7 -> 1 day, no final
#                    snapshot, automated backups deleted with it: refused
#   catalog          deletion protection off: refused; backups 7 -> 14
#                    days: passes
locals {
  tables = {
    refs = { pitr = false, days = null, protect = false, tags = null }
    objs = { pitr = true, days = 7, protect = true, tags = null }
    meta = { pitr = true, days = 35, protect = true, tags = { team = "zzfixture" } }
  }
}

resource "aws_dynamodb_table" "catalog" {
  for_each                    = local.tables
  name                        = "zzfixture_${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "k"
  deletion_protection_enabled = each.value.protect
  tags                        = each.value.tags

  attribute {
    name = "k"
    type = "S"
  }

  point_in_time_recovery {
    enabled                 = each.value.pitr
    recovery_period_in_days = each.value.days
  }
}

resource "aws_db_instance" "dagster" {
  identifier                  = "zzfixture-dagster"
  engine                      = "postgres"
  engine_version              = "17"
  instance_class              = "db.t4g.micro"
  allocated_storage           = 20
  db_name                     = "dagster"
  username                    = "dagster"
  manage_master_user_password = true
  storage_encrypted           = true
  publicly_accessible         = false
  backup_retention_period     = 1
  deletion_protection         = false
  skip_final_snapshot         = true
  final_snapshot_identifier   = "zzfixture-dagster-final"
  delete_automated_backups    = true
}

resource "aws_rds_cluster" "catalog" {
  cluster_identifier          = "zzfixture-catalog"
  engine                      = "aurora-postgresql"
  database_name               = "catalog"
  master_username             = "catalog"
  manage_master_user_password = true
  storage_encrypted           = true
  backup_retention_period     = 14
  deletion_protection         = false
  skip_final_snapshot         = false
  final_snapshot_identifier   = "zzfixture-catalog-final"
}
