# staging: between dev and prod. HTTPS and alerting on so the promotion path
# exercises them; single catalog task and short retention to keep cost down.
project_name = "lakehouse"
environment  = "staging"

# The cloud this environment deploys to: the Terraform root (aws/ or gcp/)
# deploy, promote and the workflows use. Both roots read this file.
cloud_provider = "aws"

# Catalog (Nessie) sizing.
catalog_cpu_units     = 512
catalog_memory_mib    = 1024
catalog_min_instances = 1
catalog_max_instances = 3

# Security and operations.
enable_https          = true
enable_audit_logging  = false
enable_access_logging = false
enable_alerting       = true
log_retention_days    = 90
deletion_protection   = true

# Dagster runtime (the guide's "Docker resources": 2 vCPU / 2 GB by default;
# AWS runs 2 GiB per vCPU at least).
# The images are never set here: the pipeline passes the release's digests
# (dagster_image, gate_image) with -var.
enable_dagster                 = true
dagster_access_level           = "reader"
dagster_webserver_cpu_units    = 2048
dagster_webserver_memory_mib   = 2048
dagster_daemon_cpu_units       = 2048
dagster_daemon_memory_mib      = 2048
dagster_code_server_cpu_units  = 2048
dagster_code_server_memory_mib = 2048
dagster_run_cpu_units          = 2048
dagster_run_memory_mib         = 2048

# Promotion (read by the pipeline): where releases come from, what the
# upstream environment's quality gate must show, how long a release soaks
# upstream, and when deploy and promote refuse (freeze windows; the weekly
# ones on promotion_timezone's wall clock). See environments/README.md.
promotion_upstream               = "dev"
promotion_warnings_block         = true
promotion_max_evidence_age_hours = 168
promotion_requires_approval      = false
promotion_min_soak_hours         = 0
promotion_timezone               = "UTC"
promotion_freeze_weekly          = []
promotion_freeze_dates           = []

# AWS only. PLACEHOLDER certificate (account 000000000000): replace with the
# ACM certificate ARN covering the staging catalog and Dagster hostnames.
aws_region                    = "us-east-1"
aws_vpc_cidr                  = "10.41.0.0/16"
aws_nat_gateway_per_az        = false
aws_dagster_db_instance_class = "db.t4g.micro"
aws_dagster_db_multi_az       = false
aws_certificate_arn           = "arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000"

# GCP only. PLACEHOLDER project id: replace before the first gcp apply.
gcp_project_id                   = "replace-me-lakehouse-stg"
gcp_region                       = "us-central1"
gcp_location                     = "US"
gcp_enable_cmek                  = false
gcp_catalog_db_tier              = "db-g1-small"
gcp_catalog_db_high_availability = false
