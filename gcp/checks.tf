# Plan-time warnings for committed placeholders (see environments/README.md).
check "no_placeholder_project" {
  assert {
    condition     = !startswith(var.gcp_project_id, "replace-me")
    error_message = "gcp_project_id is still the committed placeholder; set the real project for ${var.environment} in environments/${var.environment}.tfvars."
  }
}
