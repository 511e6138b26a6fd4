project_name   = "lakehouse"
environment    = "staging"
cloud_provider = "aws"
