# Plans the root against a mocked AWS provider (no credentials, nothing
# created) with one environment's tfvars, and checks what the environment
# switches actually change:
#   terraform test -var-file=../environments/<env>.tfvars \
#     -var=aws_certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/test
# (the -var replaces the committed placeholder certificate, which the
# no_placeholder_certificate check would otherwise flag).
# tests/infra runs this for every environments/*.tfvars whenever the aws
# provider can be installed (registry access or a provider mirror).

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
}
