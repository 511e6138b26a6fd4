project_name = "lakehouse"
environment  = "dev"
