# State (state.json, made by applying applied.tf to moto): keys lakehouse,
# audit and logs, enabled, rotated, with a 30-day deletion window. Each case
# for the guard:
#   lakehouse  disabled (is_enabled = false): refused
#   logs       deletion window 30 -> 7 days: refused
#   audit      rotation off, deletion window left to AWS's default (30
#              days): passes
locals {
  keys = {
    lakehouse = { enabled = false, rotation = true, window = 30 }
    audit     = { enabled = true, rotation = false, window = null }
    logs      = { enabled = true, rotation = true, window = 7 }
  }
}

resource "aws_kms_key" "this" {
  for_each                = local.keys
  description             = "zzfixture ${each.key}"
  is_enabled              = each.value.enabled
  enable_key_rotation     = each.value.rotation
  deletion_window_in_days = each.value.window
}
