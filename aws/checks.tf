# Plan-time warnings for committed placeholders (see environments/README.md).
check "no_placeholder_certificate" {
  assert {
    condition     = !var.enable_https || !strcontains(var.aws_certificate_arn, ":000000000000:")
    error_message = "aws_certificate_arn is still the committed placeholder (account 000000000000); set the real ACM certificate ARN for ${var.environment}."
  }
}
