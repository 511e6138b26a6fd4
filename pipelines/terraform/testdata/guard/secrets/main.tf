# State (state.json): the catalog's database password in Secrets Manager.
# This configuration writes a new password (the secret version is
# replaced) and edits the secret's description (an in-place update).
resource "aws_secretsmanager_secret" "catalog_db_password" {
  name        = "lakehouse-dev-nessie-db-password"
  description = "Nessie version store password (rotated)"
}

resource "aws_secretsmanager_secret_version" "catalog_db_password" {
  secret_id     = aws_secretsmanager_secret.catalog_db_password.id
  secret_string = "CANARY-7f3c91-sensitive-value-must-not-render-rotated"
}
