project_name = "lakehouse"
environment  = "prod"
