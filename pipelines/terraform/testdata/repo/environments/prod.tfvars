project_name   = "lakehouse"
environment    = "prod"
cloud_provider = "aws"
