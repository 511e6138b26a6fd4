# Outputs the pipeline consumes. The names are shared with gcp/outputs.tf so
# consumers do not branch on the cloud (tests/infra asserts the same set).

output "cloud" {
  description = "Which root produced these outputs."
  value       = "aws"
}

output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "region" {
  description = "Region of the bucket and catalog."
  value       = var.aws_region
}

output "bucket_name" {
  description = "Lakehouse bucket."
  value       = aws_s3_bucket.lakehouse.id
}

output "warehouse_uri" {
  description = "Iceberg warehouse location (ICEBERG_WAREHOUSE)."
  value       = "s3://${aws_s3_bucket.lakehouse.id}/${local.warehouse_prefix}"
}

output "catalog_warehouse" {
  description = "Name of the Nessie warehouse that maps to warehouse_uri (its default warehouse)."
  value       = local.warehouse_prefix
}

output "catalog_uri" {
  description = "Iceberg REST catalog URI on Nessie's default branch, .../iceberg/main: pyiceberg's `uri` and ICEBERG_CATALOG_URI as they are (another branch: replace the last segment)."
  value       = local.catalog_uri
}

output "catalog_api_uri" {
  description = "Nessie native API v2 (branches, merges)."
  value       = "${local.catalog_base}/api/v2"
}

output "writer_identity" {
  description = "IAM role ARN Dagster assumes to write tables."
  value       = aws_iam_role.dagster["writer"].arn
}

output "reader_identity" {
  description = "IAM role ARN for read-only consumers (Soda scans, BI)."
  value       = aws_iam_role.dagster["reader"].arn
}

output "admin_identity" {
  description = "IAM role ARN for maintenance (compaction, snapshot expiry, catalog operations)."
  value       = aws_iam_role.dagster["admin"].arn
}

output "alert_channel" {
  description = "SNS topic ARN alarms notify, or empty when alerting is off."
  value       = var.enable_alerting ? local.alarm_topic_arn : ""
}

# ------------------------------------------------------- Dagster runtime --

output "dagster_image" {
  description = "The Dagster image this environment runs (null without Dagster). The pipeline passes it back as -var=dagster_image for a plan without a new release, so infrastructure-only changes and drift checks never roll code back."
  value       = local.dagster ? var.dagster_image : null
}

output "gate_image" {
  description = "The image of the quality-gate task (null without one); passed back like dagster_image."
  value       = var.gate_image
}

output "dagster_webserver_url" {
  description = "The Dagster UI: the internal load balancer, reachable from aws_dagster_allowed_cidrs (null without Dagster). With enable_https, point a DNS name covered by aws_certificate_arn at it."
  value       = local.dagster ? "${local.dagster_scheme}://${aws_lb.dagster[0].dns_name}" : null
}

output "dagster_storage_secret" {
  description = "ARN of the Secrets Manager secret (managed by RDS) holding Dagster's database user and password: its name, never its value (null without Dagster)."
  value       = local.dagster ? local.dagster_db_secret_arn : null
}

output "dagster_env" {
  description = "The dagster/.env.<env> values that come from this root (LAKEHOUSE_ENVIRONMENT, ICEBERG_CATALOG_URI ending in /iceberg/main, ICEBERG_WAREHOUSE, ...): what the deployed Dagster runs with, and what the pipeline's terraform.RuntimeEnv turns into dotenv lines. No secrets."
  value       = local.dagster_env
}

output "quality_gate" {
  description = "How to start the one-off quality-gate task (null without gate_image): aws ecs run-task --cluster <cluster> --task-definition <task_definition> --launch-type FARGATE --network-configuration subnets/security_groups, overriding container <container>'s environment with GATE_RUN_ID=<id> and its command with <command> plus the gate's arguments; the report is then <report_uri>/<id>/gate.json."
  value = local.gate ? {
    launcher         = "ecs"
    cluster          = aws_ecs_cluster.catalog.arn
    task_definition  = aws_ecs_task_definition.gate[0].arn
    container        = "gate"
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.gate[0].id]
    assign_public_ip = false
    command          = [] # the gate's arguments follow the entrypoint (dagster/deploy/gate.sh)
    run_id_variable  = "GATE_RUN_ID"
    report_uri       = local.gate_report_uri
  } : null
}

output "dagster_services" {
  description = "The long-running Dagster services and the task definition this apply gave each (null without Dagster): the pipeline waits until each service's primary deployment runs exactly that revision, completed, before it verifies a release."
  value = local.dagster ? {
    launcher = "ecs"
    cluster  = aws_ecs_cluster.catalog.arn
    services = {
      for role, svc in aws_ecs_service.dagster : role => {
        name            = svc.name
        task_definition = aws_ecs_task_definition.dagster[role].arn
      }
    }
  } : null
}

output "smoke_run" {
  description = "How to start the one-off smoke materialization of the deployed release (null without Dagster): the run task definition (the release's image, the writer role, DAGSTER_HOME on the deployment's instance, so the runs show in the UI) with its command replaced by <command>."
  value = local.dagster ? {
    launcher         = "ecs"
    cluster          = aws_ecs_cluster.catalog.arn
    task_definition  = aws_ecs_task_definition.dagster_run[0].arn
    container        = local.dagster_containers["run"].name
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.dagster_tasks[0].id]
    assign_public_ip = false
    command          = ["python", "-m", "lakehouse.smoke"]
  } : null
}
