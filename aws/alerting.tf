# Alarms on the catalog. Notifications go to an SNS topic created here when
# enable_alerting = true and no aws_alarm_topic_arn is given. With alerting
# off the alarms still exist (visible in the console) but notify nobody.

resource "aws_sns_topic" "alerts" {
  count             = local.create_alarm_topic ? 1 : 0
  name              = "${local.name_prefix}-alerts"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "alerts_email" {
  count     = local.create_alarm_topic && var.alert_email != "" ? 1 : 0
  topic_arn = aws_sns_topic.alerts[0].arn
  protocol  = "email"
  endpoint  = var.alert_email
}

locals {
  alarms = {
    "nessie-unhealthy-targets" = {
      namespace  = "AWS/ApplicationELB"
      metric     = "UnHealthyHostCount"
      statistic  = "Maximum"
      comparison = "GreaterThanThreshold"
      threshold  = 0
      period     = 60
      evals      = 3
      dimensions = { LoadBalancer = aws_lb.catalog.arn_suffix, TargetGroup = aws_lb_target_group.catalog.arn_suffix }
    }
    "nessie-5xx" = {
      namespace  = "AWS/ApplicationELB"
      metric     = "HTTPCode_Target_5XX_Count"
      statistic  = "Sum"
      comparison = "GreaterThanThreshold"
      threshold  = 10
      period     = 300
      evals      = 1
      dimensions = { LoadBalancer = aws_lb.catalog.arn_suffix }
    }
    "nessie-cpu-high" = {
      namespace  = "AWS/ECS"
      metric     = "CPUUtilization"
      statistic  = "Average"
      comparison = "GreaterThanThreshold"
      threshold  = 85
      period     = 300
      evals      = 3
      dimensions = { ClusterName = aws_ecs_cluster.catalog.name, ServiceName = aws_ecs_service.catalog.name }
    }
    "nessie-memory-high" = {
      namespace  = "AWS/ECS"
      metric     = "MemoryUtilization"
      statistic  = "Average"
      comparison = "GreaterThanThreshold"
      threshold  = 85
      period     = 300
      evals      = 3
      dimensions = { ClusterName = aws_ecs_cluster.catalog.name, ServiceName = aws_ecs_service.catalog.name }
    }
    "nessie-refs-throttled" = {
      namespace  = "AWS/DynamoDB"
      metric     = "ThrottledRequests"
      statistic  = "Sum"
      comparison = "GreaterThanThreshold"
      threshold  = 0
      period     = 300
      evals      = 1
      dimensions = { TableName = aws_dynamodb_table.catalog_refs.name }
    }
    "nessie-objs-throttled" = {
      namespace  = "AWS/DynamoDB"
      metric     = "ThrottledRequests"
      statistic  = "Sum"
      comparison = "GreaterThanThreshold"
      threshold  = 0
      period     = 300
      evals      = 1
      dimensions = { TableName = aws_dynamodb_table.catalog_objs.name }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "catalog" {
  for_each            = local.alarms
  alarm_name          = "${local.name_prefix}-${each.key}"
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  period              = each.value.period
  evaluation_periods  = each.value.evals
  dimensions          = each.value.dimensions
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
