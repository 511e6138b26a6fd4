output "github_oidc_provider_arn" {
  description = "The IAM OIDC provider the roles trust (created here, or the one passed in)."
  value       = local.oidc_provider_arn
}

output "roles" {
  description = "Per environment: the plan and deploy role ARNs and the GitHub environment each one trusts."
  value = { for e, v in local.env : e => {
    plan_role_arn             = aws_iam_role.plan[e].arn
    plan_github_environment   = v.plan_github_environment
    deploy_role_arn           = aws_iam_role.deploy[e].arn
    deploy_github_environment = v.deploy_github_environment
  } }
}

# Keyed by GitHub environment name, the variables to set in it, e.g.
#   terraform output -json github_environment_variables |
#     jq -r 'to_entries[] | .key as $env | .value | to_entries[] | [$env, .key, .value] | @tsv' |
#     while IFS=$'\t' read -r env name value; do gh variable set "$name" --env "$env" --body "$value"; done
output "github_environment_variables" {
  description = "GitHub environment name => the variables the workflows read there: <env>-plan gets AWS_REGION and AWS_PLAN_ROLE_ARN, <env> gets AWS_REGION and AWS_DEPLOY_ROLE_ARN."
  value = merge(
    { for e, v in local.env : v.plan_github_environment => {
      AWS_REGION        = local.declared[e].aws_region
      AWS_PLAN_ROLE_ARN = aws_iam_role.plan[e].arn
    } },
    { for e, v in local.env : v.deploy_github_environment => {
      AWS_REGION          = local.declared[e].aws_region
      AWS_DEPLOY_ROLE_ARN = aws_iam_role.deploy[e].arn
    } },
  )
}

output "github_environment_protection" {
  description = "GitHub environment name => whether it needs required reviewers (promotion_requires_approval in the environment's tfvars; plan environments never do). Deployment branches: main for every deploy environment."
  value = merge(
    { for e, v in local.env : v.plan_github_environment => { required_reviewers = false } },
    { for e, v in local.env : v.deploy_github_environment => { required_reviewers = local.declared[e].requires_approval } },
  )
}
