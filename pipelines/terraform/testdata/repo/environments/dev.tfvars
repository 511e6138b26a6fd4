project_name   = "lakehouse"
environment    = "dev"
cloud_provider = "aws"
