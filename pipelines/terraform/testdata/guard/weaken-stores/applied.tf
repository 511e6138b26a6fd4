# Applied to moto to make state.json (how: guardScenarios in
# host_guard_test.go): the catalog's DynamoDB tables, a Postgres instance
# and an Aurora cluster as the roots protect them (point-in-time recovery,
# backups kept 7 days, deletion protection, a final snapshot). The RDS
# master password is managed by RDS, never in state.
resource "aws_dynamodb_table" "catalog" {
  for_each                    = toset(["refs", "objs", "meta"])
  name                        = "zzfixture_${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "k"
  deletion_protection_enabled = true

  attribute {
    name = "k"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
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
  backup_retention_period     = 7
  deletion_protection         = true
  skip_final_snapshot         = false
  final_snapshot_identifier   = "zzfixture-dagster-final"
  delete_automated_backups    = false
}

resource "aws_rds_cluster" "catalog" {
  cluster_identifier          = "zzfixture-catalog"
  engine                      = "aurora-postgresql"
  database_name               = "catalog"
  master_username             = "catalog"
  manage_master_user_password = true
  storage_encrypted           = true
  backup_retention_period     = 7
  deletion_protection         = true
  skip_final_snapshot         = false
  final_snapshot_identifier   = "zzfixture-catalog-final"
}
