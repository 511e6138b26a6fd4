# Plans the root against a mocked AWS provider (no credentials, nothing
# created) with one environment's tfvars, and checks what the environment
# switches actually change:
#   terraform test -var-file=../environments/<env>.tfvars \
#     -var=aws_certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/test
# (the -var replaces the committed placeholder certificate, which the
# no_placeholder_certificate check would otherwise flag).
# tests/infra runs this for every environments/*.tfvars whenever the aws
# provider can be installed (registry access or a provider mirror).

# The release's images: the pipeline passes them with -var, never the tfvars.
variables {
  dagster_image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse@sha256:1111111111111111111111111111111111111111111111111111111111111111"
  gate_image    = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse@sha256:2222222222222222222222222222222222222222222222222222222222222222"
}

# Plain plan mode (no override_during, which needs Terraform 1.11) so the
# file also loads on the minimum supported Terraform 1.10: computed values
# stay unknown, and only values known at plan time are asserted.
mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["us-east-1a", "us-east-1b", "us-east-1c"]
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_elb_service_account" {
    defaults = {
      arn = "arn:aws:iam::127311923021:root"
    }
  }

  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/catalog/0123456789abcdef"
      dns_name   = "internal-catalog.us-east-1.elb.amazonaws.com"
      arn_suffix = "app/catalog/0123456789abcdef"
    }
  }

  mock_resource "aws_lb_target_group" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/catalog/0123456789abcdef"
      arn_suffix = "targetgroup/catalog/0123456789abcdef"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/mock"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::mock-bucket"
    }
  }

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:us-east-1:123456789012:table/mock"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:mock"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock"
    }
  }

  mock_resource "aws_ecs_cluster" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:123456789012:cluster/mock"
    }
  }
}

run "environment" {
  command = plan

  assert {
    condition     = length(aws_lb_listener.catalog_https) == (var.enable_https ? 1 : 0)
    error_message = "HTTPS listener must exist exactly when enable_https"
  }

  assert {
    condition     = aws_lb_listener.catalog_http.default_action[0].type == (var.enable_https ? "redirect" : "forward")
    error_message = "port 80 must redirect when HTTPS is on and forward otherwise"
  }

  assert {
    condition     = aws_lb_target_group.catalog.health_check[0].port == "9000" && startswith(aws_lb_target_group.catalog.health_check[0].path, "/q/health")
    error_message = "ALB health check must use Nessie's management endpoint"
  }

  assert {
    condition     = length(aws_lb.catalog.name) <= 32 && length(aws_lb_target_group.catalog.name) <= 32
    error_message = "ALB and target group names must fit 32 characters"
  }

  assert {
    condition     = aws_ecs_task_definition.catalog.cpu == tostring(var.catalog_cpu_units) && aws_ecs_task_definition.catalog.memory == tostring(var.catalog_memory_mib)
    error_message = "task size must follow the environment"
  }

  assert {
    condition     = aws_appautoscaling_target.catalog.min_capacity == var.catalog_min_instances && aws_ecs_service.catalog.desired_count == var.catalog_min_instances
    error_message = "autoscaling minimum and initial desired count must follow catalog_min_instances"
  }

  assert {
    condition     = length(aws_cloudtrail.data_events) == (var.enable_audit_logging ? 1 : 0)
    error_message = "CloudTrail must follow enable_audit_logging"
  }

  assert {
    condition     = length(aws_s3_bucket.access_logs) == (var.enable_access_logging ? 1 : 0) && length(aws_s3_bucket_logging.lakehouse) == (var.enable_access_logging ? 1 : 0)
    error_message = "access logging must follow enable_access_logging"
  }

  assert {
    condition     = length(aws_sns_topic.alerts) == (var.enable_alerting && var.aws_alarm_topic_arn == "" ? 1 : 0)
    error_message = "SNS topic is created only when alerting is on and no topic ARN is given"
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.catalog : length(a.alarm_actions) == (var.enable_alerting ? 1 : 0)])
    error_message = "alarms notify only when alerting is on"
  }

  assert {
    condition     = aws_cloudwatch_log_group.catalog.retention_in_days == var.log_retention_days
    error_message = "log retention must follow the environment"
  }

  assert {
    condition     = aws_s3_bucket.lakehouse.bucket == "${var.project_name}-${var.environment}-lakehouse"
    error_message = "bucket must be <project>-<env>-lakehouse"
  }

  assert {
    condition     = output.region == var.aws_region && output.environment == var.environment
    error_message = "outputs must report region and environment"
  }

  # catalog_uri (.../iceberg/main) holds the ALB's DNS name, unknown in a
  # plan: tests/infra checks its template.
  assert {
    condition     = output.dagster_env["LAKEHOUSE_ENVIRONMENT"] == var.environment && output.dagster_env["ICEBERG_WAREHOUSE"] == "s3://${var.project_name}-${var.environment}-lakehouse/warehouse" && output.dagster_env["AWS_REGION"] == var.aws_region
    error_message = "dagster_env must name the environment, its warehouse and region"
  }
}

run "dagster" {
  command = plan

  assert {
    condition     = length(aws_ecs_service.dagster) == (var.enable_dagster ? 3 : 0) && (!var.enable_dagster || alltrue([for role in ["code_server", "daemon", "webserver"] : contains(keys(aws_ecs_service.dagster), role)]))
    error_message = "code server, daemon and webserver must run as ECS services exactly when enable_dagster"
  }

  assert {
    condition     = alltrue([for role, c in local.dagster_containers : c.image == var.dagster_image && c.entryPoint == local.dagster_entrypoint])
    error_message = "every Dagster container (and the run task's) must run var.dagster_image through the deploy entrypoint"
  }

  assert {
    condition = length(aws_ecs_task_definition.dagster) == length(aws_ecs_service.dagster) && alltrue([
      for role, td in aws_ecs_task_definition.dagster :
      td.cpu == tostring({ code_server = var.dagster_code_server_cpu_units, daemon = var.dagster_daemon_cpu_units, webserver = var.dagster_webserver_cpu_units }[role]) &&
      td.memory == tostring(max({ code_server = var.dagster_code_server_memory_mib, daemon = var.dagster_daemon_memory_mib, webserver = var.dagster_webserver_memory_mib }[role], 2 * { code_server = var.dagster_code_server_cpu_units, daemon = var.dagster_daemon_cpu_units, webserver = var.dagster_webserver_cpu_units }[role]))
    ]) && alltrue([for td in aws_ecs_task_definition.dagster_run : td.cpu == tostring(var.dagster_run_cpu_units)])
    error_message = "task sizes must follow the environment (memory raised to Fargate's 2 GiB per vCPU)"
  }

  assert {
    condition     = alltrue([for role, svc in aws_ecs_service.dagster : svc.desired_count == 1 && svc.deployment_maximum_percent == (role == "daemon" ? 100 : 200) && svc.deployment_minimum_healthy_percent == (role == "daemon" ? 0 : 100)])
    error_message = "exactly one task per service, and never two daemons during a deployment"
  }

  assert {
    condition     = alltrue([for role, svc in aws_ecs_service.dagster : length(svc.load_balancer) == (role == "webserver" ? 1 : 0) && length(svc.service_registries) == (role == "code_server" ? 1 : 0)]) && alltrue([for lb in aws_lb.dagster : lb.internal])
    error_message = "webserver behind the internal ALB, code server registered in Cloud Map"
  }

  assert {
    condition     = length(aws_lb_listener.dagster_https) == (var.enable_dagster && var.enable_https ? 1 : 0)
    error_message = "the webserver's HTTPS listener must exist exactly when Dagster runs with enable_https"
  }

  assert {
    condition = length(aws_db_instance.dagster) == (var.enable_dagster ? 1 : 0) && alltrue([
      for db in aws_db_instance.dagster :
      db.deletion_protection == var.deletion_protection && db.skip_final_snapshot == !var.deletion_protection &&
      db.storage_encrypted && db.manage_master_user_password && !db.publicly_accessible
    ])
    error_message = "Dagster storage: encrypted, private, password managed in Secrets Manager, protected (with a final snapshot) where the environment is"
  }

  assert {
    condition     = alltrue([for g in concat(aws_cloudwatch_log_group.dagster, aws_cloudwatch_log_group.gate) : g.retention_in_days == var.log_retention_days])
    error_message = "Dagster and gate log groups must keep the environment's retention"
  }

  assert {
    condition     = !var.enable_dagster || alltrue([for role, c in local.dagster_containers : c.healthCheck.command == local.dagster_health[role] if role != "run"])
    error_message = "container health checks must be the compose file's"
  }

  assert {
    condition     = !var.enable_dagster || alltrue([for role, c in local.dagster_containers : !contains([for e in c.environment : e.name], "DAGSTER_POSTGRES_PASSWORD") && c.secrets[0].name == "DAGSTER_POSTGRES_PASSWORD"])
    error_message = "the database password must be an ECS secret, never a plain variable"
  }

  assert {
    condition     = output.dagster_image == (var.enable_dagster ? var.dagster_image : null)
    error_message = "output dagster_image must report the running image"
  }

  assert {
    condition     = length(aws_ecs_task_definition.gate) == 1 && aws_ecs_task_definition.gate[0].cpu == tostring(var.dagster_run_cpu_units) && local.gate_container.image == var.gate_image && output.quality_gate.container == "gate" && startswith(output.quality_gate.report_uri, "s3://${var.project_name}-${var.environment}-lakehouse/quality")
    error_message = "the gate task must run var.gate_image and report to the environment's bucket under quality/"
  }

  assert {
    condition     = local.dagster_ecr_repository_arn == "arn:aws:ecr:us-east-1:123456789012:repository/lakehouse" && local.gate_ecr_repository_arn == "arn:aws:ecr:us-east-1:123456789012:repository/lakehouse"
    error_message = "the execution roles may pull exactly the ECR repository each release image names"
  }

  assert {
    condition     = !var.enable_dagster || (output.smoke_run.container == "run" && output.smoke_run.command == ["python", "-m", "lakehouse.smoke"] && output.smoke_run.assign_public_ip == false)
    error_message = "the smoke task must replace the run container's command with the smoke module, in private subnets"
  }

  assert {
    condition     = !var.enable_dagster || toset(keys(output.dagster_services.services)) == toset(keys(aws_ecs_service.dagster))
    error_message = "dagster_services must list every Dagster ECS service, so the pipeline waits for each"
  }
}

run "without_dagster" {
  command = plan

  variables {
    enable_dagster = false
    dagster_image  = null
    gate_image     = null
  }

  assert {
    condition = (
      length(aws_ecs_service.dagster) + length(aws_ecs_task_definition.dagster) + length(aws_ecs_task_definition.dagster_run) +
      length(aws_db_instance.dagster) + length(aws_db_subnet_group.dagster) + length(aws_secretsmanager_secret_rotation.dagster_db) +
      length(aws_lb.dagster) + length(aws_lb_target_group.dagster) + length(aws_lb_listener.dagster_http) + length(aws_lb_listener.dagster_https) +
      length(aws_security_group.dagster_tasks) + length(aws_security_group.dagster_alb) + length(aws_security_group.dagster_db) +
      length(aws_service_discovery_private_dns_namespace.dagster) + length(aws_service_discovery_service.dagster_code) +
      length(aws_cloudwatch_log_group.dagster) + length(aws_iam_role.dagster_execution) + length(aws_iam_role_policy.dagster_runtime) +
      length(aws_ecs_task_definition.gate) + length(aws_iam_role.gate) + length(aws_vpc_security_group_ingress_rule.catalog_alb_from_tasks)
    ) == 0
    error_message = "with enable_dagster = false and no gate image, no Dagster or gate resource may exist"
  }

  assert {
    condition     = output.dagster_image == null && output.dagster_webserver_url == null && output.dagster_storage_secret == null && output.quality_gate == null && output.smoke_run == null && output.dagster_services == null
    error_message = "without Dagster the runtime outputs are null"
  }

  assert {
    condition     = output.dagster_env["ICEBERG_WAREHOUSE"] == "s3://${var.project_name}-${var.environment}-lakehouse/warehouse"
    error_message = "the catalog settings are still output without Dagster (a local Dagster can use them)"
  }
}

run "images_outside_ecr_need_no_pull_permission" {
  command = plan

  variables {
    dagster_image = "ghcr.io/acme/lakehouse@sha256:1111111111111111111111111111111111111111111111111111111111111111"
    gate_image    = "987654321098.dkr.ecr.eu-west-1.amazonaws.com/team/gate@sha256:2222222222222222222222222222222222222222222222222222222222222222"
  }

  assert {
    condition     = local.dagster_ecr_repository_arn == null && local.gate_ecr_repository_arn == "arn:aws:ecr:eu-west-1:987654321098:repository/team/gate"
    error_message = "a non-ECR image gets no ECR permission; an ECR image in another account and region gets exactly its repository"
  }
}

run "tag_only_image_is_refused" {
  command = plan

  variables {
    dagster_image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse:v1.4.0"
  }

  expect_failures = [var.dagster_image]
}

run "missing_image_is_refused_where_dagster_runs" {
  command = plan

  variables {
    enable_dagster = true
    dagster_image  = null
  }

  expect_failures = [var.dagster_image]
}
