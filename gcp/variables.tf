# Shared variable contract.
#
# This file is identical in aws/ and gcp/ (tests/infra asserts it) so that ONE
# environments/<env>.tfvars file serves both roots with no "undeclared
# variable" warnings. Cloud-neutral names (no prefix) are used by both roots;
# names prefixed aws_ or gcp_ are read by that root only and ignored by the
# other. See environments/README.md for the full table.

# ---------------------------------------------------------------- identity --

variable "project_name" {
  description = "Short project slug used as the first part of every resource name. 2-12 chars so that <project>-<environment>-<suffix> fits the tightest provider limits (ALB/target group 32, GCP service account id 30)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,10}[a-z0-9]$", var.project_name))
    error_message = "project_name must be 2-12 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen (longest names: <12>-<10>-nessie = 30 <= 32 for ALB/target groups, <12>-<10>-writer = 30 for GCP service account ids)."
  }

  validation {
    condition     = !startswith(var.project_name, "internal")
    error_message = "project_name must not start with \"internal\": AWS rejects load balancer names with that prefix."
  }

  validation {
    condition     = !strcontains(var.project_name, "--")
    error_message = "project_name must not contain two hyphens in a row: RDS rejects instance identifiers (<project>-<env>-dagster) with them."
  }
}

variable "environment" {
  description = "Environment name (dev, staging, prod, qa, ...). Must equal the tfvars file stem. Adding an environment is adding environments/<name>.tfvars; there is no fixed list."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters/digits starting with a letter (e.g. dev, staging, prod, qa); it is embedded in every resource name."
  }
}

# ------------------------------------------------------- catalog (Nessie) --

variable "catalog_image_tag" {
  description = "Nessie server image tag (ghcr.io/projectnessie/nessie). Pinned; bump deliberately and promote through environments."
  type        = string
  default     = "0.106.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.catalog_image_tag))
    error_message = "catalog_image_tag must be an exact release such as 0.106.0 (no 'latest')."
  }
}

variable "catalog_cpu_units" {
  description = "Nessie CPU in AWS/Fargate units (1024 = 1 vCPU). GCP Cloud Run gets max(1, units/1024) vCPU."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.catalog_cpu_units)
    error_message = "catalog_cpu_units must be one of 256, 512, 1024, 2048, 4096 (Fargate CPU sizes)."
  }
}

variable "catalog_memory_mib" {
  description = "Nessie memory in MiB. Must be a valid Fargate pairing for catalog_cpu_units."
  type        = number

  validation {
    condition = (
      (var.catalog_cpu_units == 256 && contains([512, 1024, 2048], var.catalog_memory_mib)) ||
      (var.catalog_cpu_units == 512 && var.catalog_memory_mib >= 1024 && var.catalog_memory_mib <= 4096 && var.catalog_memory_mib % 1024 == 0) ||
      (var.catalog_cpu_units == 1024 && var.catalog_memory_mib >= 2048 && var.catalog_memory_mib <= 8192 && var.catalog_memory_mib % 1024 == 0) ||
      (var.catalog_cpu_units == 2048 && var.catalog_memory_mib >= 4096 && var.catalog_memory_mib <= 16384 && var.catalog_memory_mib % 1024 == 0) ||
      (var.catalog_cpu_units == 4096 && var.catalog_memory_mib >= 8192 && var.catalog_memory_mib <= 30720 && var.catalog_memory_mib % 1024 == 0)
    )
    error_message = "catalog_memory_mib is not a valid Fargate memory size for catalog_cpu_units (e.g. 256->512/1024/2048, 512->1024..4096, 1024->2048..8192)."
  }
}

variable "catalog_min_instances" {
  description = "Minimum running Nessie tasks/instances. 2+ spreads across availability zones."
  type        = number

  validation {
    condition     = var.catalog_min_instances >= 1 && var.catalog_min_instances <= 10 && floor(var.catalog_min_instances) == var.catalog_min_instances
    error_message = "catalog_min_instances must be a whole number between 1 and 10."
  }
}

variable "catalog_max_instances" {
  description = "Maximum Nessie tasks/instances the autoscaler may run."
  type        = number

  validation {
    condition     = var.catalog_max_instances >= var.catalog_min_instances && var.catalog_max_instances <= 20
    error_message = "catalog_max_instances must be >= catalog_min_instances and <= 20."
  }
}

# ------------------------------------------------- security & operations --

variable "enable_https" {
  description = "Serve the catalog over HTTPS. AWS: 443 listener with aws_certificate_arn and an 80->443 redirect. GCP: Cloud Run is always HTTPS; the flag is recorded only."
  type        = bool

  validation {
    condition     = !var.enable_https || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.aws_certificate_arn))
    error_message = "enable_https = true needs aws_certificate_arn set to an ACM certificate ARN."
  }
}

variable "enable_audit_logging" {
  description = "Data-access audit logging. AWS: CloudTrail S3 data events to a dedicated bucket. GCP: DATA_READ/DATA_WRITE audit logs for Cloud Storage routed to a log bucket."
  type        = bool
}

variable "enable_access_logging" {
  description = "Access logs. AWS: S3 server access logs and ALB access logs to a per-environment log bucket. GCP: bucket usage logs to a per-environment log bucket."
  type        = bool
}

variable "enable_alerting" {
  description = "Alarms with notifications. AWS: CloudWatch alarms to an SNS topic (created, or aws_alarm_topic_arn). GCP: Cloud Monitoring alert policies."
  type        = bool
}

variable "alert_email" {
  description = "Optional e-mail subscribed to alerts (SNS subscription / Monitoring e-mail channel). Empty = no subscription (wire Slack etc. to the topic yourself)."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be empty or an e-mail address."
  }
}

variable "log_retention_days" {
  description = "Retention for catalog logs and audit logs (30 dev, 365 SOC2; HIPAA needs 6 years = 2192, the nearest CloudWatch value)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (e.g. 30, 90, 365, 2192, 3653); 2190 is not accepted by AWS, use 2192."
  }
}

variable "deletion_protection" {
  description = "Provider-level deletion protection on the load balancer, Cloud SQL and Cloud Run. Storage and catalog state also carry lifecycle prevent_destroy regardless of this flag."
  type        = bool
  default     = true
}

# ------------------------------------------------------ Dagster runtime --
# The code server, daemon and webserver of the environment (aws/dagster*.tf,
# gcp/dagster*.tf), its run storage and the one-off quality-gate task. The
# images are inputs of a release, never committed: the pipeline passes the
# promoted digest (or the running one, output dagster_image / gate_image, for
# an infrastructure-only plan) with -var.

variable "enable_dagster" {
  description = "Run Dagster in this environment (code server, daemon, webserver, run storage). false = catalog only: none of the Dagster resources exist and dagster_image may be null."
  type        = bool
}

variable "dagster_image" {
  description = "The Dagster runtime image this environment runs (webserver, daemon, code server and runs), pinned by digest: REGISTRY/REPOSITORY@sha256:<64 hex>, no tag. Passed by the pipeline (-var), never set in tfvars; null only when enable_dagster = false."
  type        = string
  default     = null

  validation {
    condition     = var.dagster_image == null ? !var.enable_dagster : can(regex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)+@sha256:[0-9a-f]{64}$", var.dagster_image))
    error_message = "dagster_image must be a digest reference REGISTRY/REPOSITORY@sha256:<64 lowercase hex> (no tag: a tag can move, a digest cannot), e.g. ghcr.io/acme/lakehouse@sha256:<digest> from `publish`; it may be null only when enable_dagster = false."
  }
}

variable "gate_image" {
  description = "The quality-gate image (Soda) the one-off gate task runs, pinned by digest like dagster_image. Passed by the pipeline (-var), never set in tfvars; null = no gate task."
  type        = string
  default     = null

  validation {
    condition     = var.gate_image == null || can(regex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)+@sha256:[0-9a-f]{64}$", var.gate_image))
    error_message = "gate_image must be null or a digest reference REGISTRY/REPOSITORY@sha256:<64 lowercase hex> (no tag), e.g. the gate image `publish` returns."
  }
}

variable "dagster_access_level" {
  description = "LAKEHOUSE_ACCESS_LEVEL of the deployed Dagster: admin sees everything, reader sees PII masked on every read path (the guide: admin in dev, reader in prod). Must equal the environment's dagster/.env.<env>."
  type        = string
  default     = "reader"

  validation {
    condition     = contains(["admin", "reader"], var.dagster_access_level)
    error_message = "dagster_access_level must be admin or reader."
  }
}

variable "dagster_webserver_cpu_units" {
  description = "Dagster webserver CPU (1024 = 1 vCPU): 1024, 2048 or 4096. The guide: 2 vCPU by default, 4 in prod."
  type        = number
  default     = 2048

  validation {
    condition     = contains([1024, 2048, 4096], var.dagster_webserver_cpu_units)
    error_message = "dagster_webserver_cpu_units must be 1024, 2048 or 4096 (sizes both Fargate and Cloud Run offer)."
  }
}

variable "dagster_webserver_memory_mib" {
  description = "Dagster webserver memory in MiB: whole GiB, at most 4 GiB per vCPU (Cloud Run's limit), at least 2 GiB with 4 vCPU. Fargate has no size below 2 GiB per vCPU, so AWS raises it to that (2 vCPU / 2 GB runs as 2 vCPU / 4 GB)."
  type        = number
  default     = 2048

  validation {
    condition     = var.dagster_webserver_memory_mib >= 1024 && var.dagster_webserver_memory_mib % 1024 == 0 && var.dagster_webserver_memory_mib <= var.dagster_webserver_cpu_units * 4 && (var.dagster_webserver_cpu_units < 4096 || var.dagster_webserver_memory_mib >= 2048)
    error_message = "dagster_webserver_memory_mib must be whole GiB (a multiple of 1024), at most 4 GiB per vCPU of dagster_webserver_cpu_units and at least 2048 with 4 vCPU."
  }
}

variable "dagster_daemon_cpu_units" {
  description = "Dagster daemon CPU (1024 = 1 vCPU): 1024, 2048 or 4096."
  type        = number
  default     = 2048

  validation {
    condition     = contains([1024, 2048, 4096], var.dagster_daemon_cpu_units)
    error_message = "dagster_daemon_cpu_units must be 1024, 2048 or 4096 (sizes both Fargate and Cloud Run offer)."
  }
}

variable "dagster_daemon_memory_mib" {
  description = "Dagster daemon memory in MiB (same rules as dagster_webserver_memory_mib)."
  type        = number
  default     = 2048

  validation {
    condition     = var.dagster_daemon_memory_mib >= 1024 && var.dagster_daemon_memory_mib % 1024 == 0 && var.dagster_daemon_memory_mib <= var.dagster_daemon_cpu_units * 4 && (var.dagster_daemon_cpu_units < 4096 || var.dagster_daemon_memory_mib >= 2048)
    error_message = "dagster_daemon_memory_mib must be whole GiB (a multiple of 1024), at most 4 GiB per vCPU of dagster_daemon_cpu_units and at least 2048 with 4 vCPU."
  }
}

variable "dagster_code_server_cpu_units" {
  description = "Dagster code server CPU (1024 = 1 vCPU): 1024, 2048 or 4096. On GCP the runs execute in the code server, so this is also every run's share."
  type        = number
  default     = 2048

  validation {
    condition     = contains([1024, 2048, 4096], var.dagster_code_server_cpu_units)
    error_message = "dagster_code_server_cpu_units must be 1024, 2048 or 4096 (sizes both Fargate and Cloud Run offer)."
  }
}

variable "dagster_code_server_memory_mib" {
  description = "Dagster code server memory in MiB (same rules as dagster_webserver_memory_mib)."
  type        = number
  default     = 2048

  validation {
    condition     = var.dagster_code_server_memory_mib >= 1024 && var.dagster_code_server_memory_mib % 1024 == 0 && var.dagster_code_server_memory_mib <= var.dagster_code_server_cpu_units * 4 && (var.dagster_code_server_cpu_units < 4096 || var.dagster_code_server_memory_mib >= 2048)
    error_message = "dagster_code_server_memory_mib must be whole GiB (a multiple of 1024), at most 4 GiB per vCPU of dagster_code_server_cpu_units and at least 2048 with 4 vCPU."
  }
}

variable "dagster_run_cpu_units" {
  description = "CPU of each run's task (AWS: one ECS task per run) and of the quality-gate task (1024 = 1 vCPU): 1024, 2048 or 4096."
  type        = number
  default     = 2048

  validation {
    condition     = contains([1024, 2048, 4096], var.dagster_run_cpu_units)
    error_message = "dagster_run_cpu_units must be 1024, 2048 or 4096 (sizes both Fargate and Cloud Run offer)."
  }
}

variable "dagster_run_memory_mib" {
  description = "Memory in MiB of each run's task and of the quality-gate task (same rules as dagster_webserver_memory_mib)."
  type        = number
  default     = 2048

  validation {
    condition     = var.dagster_run_memory_mib >= 1024 && var.dagster_run_memory_mib % 1024 == 0 && var.dagster_run_memory_mib <= var.dagster_run_cpu_units * 4 && (var.dagster_run_cpu_units < 4096 || var.dagster_run_memory_mib >= 2048)
    error_message = "dagster_run_memory_mib must be whole GiB (a multiple of 1024), at most 4 GiB per vCPU of dagster_run_cpu_units and at least 2048 with 4 vCPU."
  }
}

# ------------------------------------------------------------ Promotion --
# Read by the pipeline (deploy/promote), not by any resource: they live here
# because an environment is its tfvars file. Declared in both roots so the
# shared file never warns about undeclared variables.

variable "cloud_provider" {
  description = "The cloud this environment deploys to (aws or gcp): the root the pipeline uses for it by default. Declared in both roots because the file is shared; neither root reads it."
  type        = string

  validation {
    condition     = contains(["aws", "gcp"], var.cloud_provider)
    error_message = "cloud_provider must be \"aws\" or \"gcp\"."
  }
}

variable "promotion_upstream" {
  description = "The environment whose passing release this one deploys (\"\" for the first environment, which deploys releases straight from publish)."
  type        = string
  default     = ""

  validation {
    condition     = var.promotion_upstream == "" || (can(regex("^[a-z][a-z0-9]{1,9}$", var.promotion_upstream)) && var.promotion_upstream != var.environment)
    error_message = "promotion_upstream must be \"\" or another environment's name (2-10 lowercase letters and digits)."
  }
}

variable "promotion_warnings_block" {
  description = "Whether a quality gate that passes with warnings blocks promotion into this environment."
  type        = bool
  default     = true
}

variable "promotion_max_evidence_age_hours" {
  description = "How old the upstream environment's passing gate may be when this environment deploys a release (hours)."
  type        = number
  default     = 168

  validation {
    condition     = var.promotion_max_evidence_age_hours >= 1 && var.promotion_max_evidence_age_hours <= 2160 && floor(var.promotion_max_evidence_age_hours) == var.promotion_max_evidence_age_hours
    error_message = "promotion_max_evidence_age_hours must be a whole number of hours between 1 and 2160 (90 days)."
  }
}

variable "promotion_requires_approval" {
  description = "Whether a deploy to this environment waits for a human approval (the workflow's GitHub environment protection rules)."
  type        = bool
  default     = false
}

variable "promotion_min_soak_hours" {
  description = "How long a release must have passed in the upstream environment before it deploys here (hours; 0 = no soak, and always 0 in the first environment). Read by the pipeline."
  type        = number
  default     = 0

  validation {
    condition     = var.promotion_min_soak_hours >= 0 && var.promotion_min_soak_hours <= 2160 && floor(var.promotion_min_soak_hours) == var.promotion_min_soak_hours
    error_message = "promotion_min_soak_hours must be a whole number of hours between 0 and 2160 (90 days)."
  }

  validation {
    condition     = var.promotion_min_soak_hours == 0 || var.promotion_upstream != ""
    error_message = "promotion_min_soak_hours must be 0 in the first environment (promotion_upstream = \"\"): a release has nowhere to soak before it."
  }

  validation {
    condition     = var.promotion_min_soak_hours < var.promotion_max_evidence_age_hours
    error_message = "promotion_min_soak_hours must be less than promotion_max_evidence_age_hours, or the upstream's evidence would be too old when the soak ends."
  }
}

variable "promotion_timezone" {
  description = "IANA time zone of promotion_freeze_weekly's wall-clock times, e.g. \"Europe/Paris\" (daylight saving time included). Read by the pipeline."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^(UTC|[A-Z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*)$", var.promotion_timezone)) && var.promotion_timezone != "Local"
    error_message = "promotion_timezone must be an IANA time zone name such as \"UTC\", \"Europe/Paris\" or \"America/New_York\" (not \"Local\": the zone of whichever machine deploys)."
  }
}

variable "promotion_freeze_weekly" {
  description = "Recurring freeze windows during which deploy and promote refuse: each { days = [\"sat\", \"sun\"], from = \"00:00\", to = \"24:00\" } on promotion_timezone's wall clock, from inclusive, to exclusive, within one day. Read by the pipeline."
  type = list(object({
    days = list(string)
    from = string
    to   = string
  }))
  default = []

  validation {
    condition     = length([for w in var.promotion_freeze_weekly : w if length(w.days) == 0 || length(toset(w.days)) != length(w.days) || length([for d in w.days : d if !contains(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], d)]) > 0]) == 0
    error_message = "Each promotion_freeze_weekly window names one or more distinct days among mon, tue, wed, thu, fri, sat, sun."
  }

  validation {
    condition     = length([for w in var.promotion_freeze_weekly : w if !can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", w.from)) || !can(regex("^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", w.to))]) == 0
    error_message = "Each promotion_freeze_weekly window has from = \"HH:MM\" (00:00-23:59) and to = \"HH:MM\" (00:01-24:00)."
  }

  validation {
    condition     = length([for w in var.promotion_freeze_weekly : w if tonumber(replace(w.from, ":", "")) >= tonumber(replace(w.to, ":", ""))]) == 0
    error_message = "Each promotion_freeze_weekly window's from is before its to: split an overnight freeze in two (e.g. fri 18:00-24:00 and sat 00:00-06:00)."
  }
}

variable "promotion_freeze_dates" {
  description = "Dated freeze windows during which deploy and promote refuse: each { from = \"2026-12-24T00:00:00+01:00\", to = \"2027-01-02T00:00:00+01:00\" } (RFC 3339 with offset; from inclusive, to exclusive; the pipeline refuses a window whose from is not before its to). Read by the pipeline."
  type = list(object({
    from = string
    to   = string
  }))
  default = []

  validation {
    condition     = length([for w in var.promotion_freeze_dates : w if !can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$", w.from)) || !can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$", w.to))]) == 0
    error_message = "Each promotion_freeze_dates window has from and to in RFC 3339 with an offset, e.g. \"2026-12-24T00:00:00+01:00\" or \"2026-12-24T00:00:00Z\"."
  }
}

# ------------------------------------------------------------- AWS only --

variable "aws_region" {
  description = "[aws] Region for every AWS resource."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-east-1."
  }
}

variable "aws_vpc_cidr" {
  description = "[aws] CIDR of the catalog VPC (a /16 to /20)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.aws_vpc_cidr)) && tonumber(split("/", var.aws_vpc_cidr)[1]) <= 20
    error_message = "aws_vpc_cidr must be an IPv4 CIDR no smaller than /20."
  }
}

variable "aws_nat_gateway_per_az" {
  description = "[aws] One NAT gateway per availability zone (HA) instead of a single shared one (cheaper)."
  type        = bool
  default     = false
}

variable "aws_catalog_allowed_cidrs" {
  description = "[aws] CIDRs allowed to reach the internal catalog load balancer. Nessie runs without authentication, so keep this to the networks where Dagster runs."
  type        = list(string)
  default     = ["10.0.0.0/8"]

  validation {
    condition     = length(var.aws_catalog_allowed_cidrs) > 0 && !contains(var.aws_catalog_allowed_cidrs, "0.0.0.0/0")
    error_message = "aws_catalog_allowed_cidrs must be non-empty and must not contain 0.0.0.0/0 (the catalog has no authentication)."
  }
}

variable "aws_certificate_arn" {
  description = "[aws] ACM certificate for the HTTPS listener; required when enable_https = true."
  type        = string
  default     = ""
}

variable "aws_alarm_topic_arn" {
  description = "[aws] Existing SNS topic for alarms. Empty = create <project>-<env>-alerts when enable_alerting = true."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_alarm_topic_arn == "" || can(regex("^arn:aws[a-z-]*:sns:", var.aws_alarm_topic_arn))
    error_message = "aws_alarm_topic_arn must be empty or an SNS topic ARN."
  }
}

variable "aws_dagster_allowed_cidrs" {
  description = "[aws] CIDRs allowed to reach the Dagster webserver's internal load balancer. The webserver has no authentication of its own: keep this to the operators' networks."
  type        = list(string)
  default     = ["10.0.0.0/8"]

  validation {
    condition     = length(var.aws_dagster_allowed_cidrs) > 0 && !contains(var.aws_dagster_allowed_cidrs, "0.0.0.0/0")
    error_message = "aws_dagster_allowed_cidrs must be non-empty and must not contain 0.0.0.0/0 (the Dagster UI has no authentication)."
  }
}

variable "aws_dagster_db_instance_class" {
  description = "[aws] RDS instance class of Dagster's run, event and schedule storage (Postgres)."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.aws_dagster_db_instance_class))
    error_message = "aws_dagster_db_instance_class must be an RDS instance class such as db.t4g.micro."
  }
}

variable "aws_dagster_db_multi_az" {
  description = "[aws] Multi-AZ (standby in a second zone) for Dagster's storage."
  type        = bool
  default     = false
}

variable "aws_trusted_principal_arns" {
  description = "[aws] Principals allowed to assume the Dagster writer/reader/admin roles. Empty = this account (then IAM policies of the caller decide)."
  type        = list(string)
  default     = []
}

# ------------------------------------------------------------- GCP only --

variable "gcp_project_id" {
  description = "[gcp] Google Cloud project that hosts this environment (one project per environment is recommended)."
  type        = string
  default     = ""

  validation {
    condition     = var.gcp_project_id == "" || can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.gcp_project_id))
    error_message = "gcp_project_id must be a valid project id (6-30 chars, lowercase letters, digits, hyphens)."
  }
}

variable "gcp_region" {
  description = "[gcp] Region for Cloud Run, Cloud SQL and the network."
  type        = string
  default     = "us-central1"
}

variable "gcp_location" {
  description = "[gcp] Location of the lakehouse bucket and KMS key ring (region or multi-region such as US)."
  type        = string
  default     = "US"
}

variable "gcp_enable_cmek" {
  description = "[gcp] Encrypt the lakehouse bucket with a customer-managed KMS key. Key rings can never be deleted, so names are permanent."
  type        = bool
  default     = false
}

variable "gcp_catalog_db_tier" {
  description = "[gcp] Cloud SQL machine tier for the Nessie version store."
  type        = string
  default     = "db-f1-micro"
}

variable "gcp_catalog_db_high_availability" {
  description = "[gcp] REGIONAL (HA) Cloud SQL instead of ZONAL."
  type        = bool
  default     = false
}
