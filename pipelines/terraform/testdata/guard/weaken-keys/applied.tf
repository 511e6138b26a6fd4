# Applied to moto to make state.json (how: guardScenarios in
# host_guard_test.go): three customer-managed keys as the roots build them
# (enabled, rotated, 30-day deletion window).
resource "aws_kms_key" "this" {
  for_each                = toset(["lakehouse", "audit", "logs"])
  description             = "zzfixture ${each.key}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}
