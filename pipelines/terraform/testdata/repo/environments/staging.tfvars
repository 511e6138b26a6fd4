project_name = "lakehouse"
environment  = "staging"
