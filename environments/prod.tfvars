# prod: HA catalog, HTTPS, CloudTrail/Data Access audit, access logs,
# alerting, 365-day retention (use 2192 for HIPAA's six years).
project_name = "lakehouse"
environment  = "prod"

# The cloud this environment deploys to: the Terraform root (aws/ or gcp/)
# deploy, promote and the workflows use. Both roots read this file.
cloud_provider = "aws"

# Catalog (Nessie) sizing.
catalog_cpu_units     = 1024
catalog_memory_mib    = 2048
catalog_min_instances = 2
catalog_max_instances = 6

# Security and operations.
enable_https          = true
enable_audit_logging  = true
enable_access_logging = true
enable_alerting       = true
log_retention_days    = 365
deletion_protection   = true

# Dagster runtime (the guide's "Docker resources": 2 vCPU / 2 GB by default,
# a 4 vCPU / 4 GB webserver in prod; AWS runs 2 GiB per vCPU at least).
# The images are never set here: the pipeline passes the release's digests
# (dagster_image, gate_image) with -var.
enable_dagster                 = true
dagster_access_level           = "reader"
dagster_webserver_cpu_units    = 4096
dagster_webserver_memory_mib   = 4096
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
promotion_upstream               = "staging"
promotion_warnings_block         = true
promotion_max_evidence_age_hours = 72
promotion_requires_approval      = true
promotion_min_soak_hours         = 0
promotion_timezone               = "UTC"
promotion_freeze_weekly          = [{ days = ["sat", "sun"], from = "00:00", to = "24:00" }]
promotion_freeze_dates           = []

# AWS only. PLACEHOLDER certificate (account 000000000000): replace with the
# ACM certificate ARN covering the prod catalog and Dagster hostnames.
aws_region                    = "us-east-1"
aws_vpc_cidr                  = "10.42.0.0/16"
aws_nat_gateway_per_az        = true
aws_dagster_db_instance_class = "db.t4g.small"
aws_dagster_db_multi_az       = true
aws_certificate_arn           = "arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000"

# GCP only. PLACEHOLDER project id: replace before the first gcp apply.
gcp_project_id                   = "replace-me-lakehouse-prod"
gcp_region                       = "us-central1"
gcp_location                     = "US"
gcp_enable_cmek                  = true
gcp_catalog_db_tier              = "db-custom-1-3840"
gcp_catalog_db_high_availability = true
