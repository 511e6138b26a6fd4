variable "name" {
  type = string
}

variable "enabled" {
  type = bool
}

# Stand-in for the lakehouse data bucket.
resource "terraform_data" "data_bucket" {
  count = var.enabled ? 1 : 0
  input = var.name
}

output "name" {
  value = var.enabled ? terraform_data.data_bucket[0].output : ""
}
