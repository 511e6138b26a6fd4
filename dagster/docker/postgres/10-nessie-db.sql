-- Nessie's JDBC version store lives next to Dagster's storage in the same Postgres
-- server, in its own database. Runs once, on an empty data volume.
CREATE DATABASE nessie;
