# dev: cheapest footprint, HTTP only, no audit trail, no alerting.
# Read by BOTH aws/ and gcp/ (see README.md for the variable contract).
project_name = "lakehouse"
environment  = "dev"

# The cloud this environment deploys to: the Terraform root (aws/ or gcp/)
# deploy, promote and the workflows use. Both roots read this file.
cloud_provider = "aws"

# Catalog (Nessie) sizing.
catalog_cpu_units     = 256
catalog_memory_mib    = 512
catalog_min_instances = 1
catalog_max_instances = 2

# Security and operations.
enable_https          = false
enable_audit_logging  = false
enable_access_logging = false
enable_alerting       = false
log_retention_days    = 30
deletion_protection   = false

# Dagster runtime (the guide's "Docker resources": 2 vCPU / 2 GB by default;
# AWS runs 2 GiB per vCPU at least).
# The images are never set here: the pipeline passes the release's digests
# (dagster_image, gate_image) with -var.
enable_dagster                 = true
dagster_access_level           = "admin"
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
promotion_upstream               = ""
promotion_warnings_block         = false
promotion_max_evidence_age_hours = 168
promotion_requires_approval      = false
promotion_min_soak_hours         = 0
promotion_timezone               = "UTC"
promotion_freeze_weekly          = []
promotion_freeze_dates           = []

# AWS only.
aws_region                    = "us-east-1"
aws_vpc_cidr                  = "10.40.0.0/16"
aws_nat_gateway_per_az        = false
aws_dagster_db_instance_class = "db.t4g.micro"
aws_dagster_db_multi_az       = false

# GCP only. PLACEHOLDER project id: replace before the first gcp apply.
gcp_project_id                   = "replace-me-lakehouse-dev"
gcp_region                       = "us-central1"
gcp_location                     = "US"
gcp_enable_cmek                  = false
gcp_catalog_db_tier              = "db-f1-micro"
gcp_catalog_db_high_availability = false
