# The CI identity root against a mocked AWS provider (nothing is created, no
# credentials): one plan and one deploy role per environments/*.tfvars that
# deploys to aws (cloud_provider), each
# trusting exactly one GitHub environment, with the state and ledger access
# the pipeline needs and no more.
#   terraform -chdir=ci-identity test
# tests/infra/ci_identity_test.go runs it (with an extra environment) in
# make test. No environment is named here: the expected names come from the
# environment files, read the way the pipeline names them.

variables {
  github_repository = "example-org/example-repo"
  state_bucket      = "example-state-bucket"
  region            = "us-east-1"

  # What the assertions compare against, computed from the files.
  # Only the environments whose file deploys to aws get AWS roles.
  expected_environments = sort([for f in fileset("../environments", "*.tfvars") : trimsuffix(f, ".tfvars") if can(regex("^[a-z][a-z0-9]{1,9}$", trimsuffix(f, ".tfvars"))) && can(regex("(?m)^[ \t]*cloud_provider[ \t]*=[ \t]*\"aws\"", file("../environments/${f}")))])
}

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  }
}

run "one_plan_and_one_deploy_role_per_environment_file" {
  command = apply

  assert {
    condition     = length(var.expected_environments) > 0
    error_message = "no environments/*.tfvars found from the test's working directory"
  }

  assert {
    condition     = sort(keys(aws_iam_role.plan)) == sort(var.expected_environments) && sort(keys(aws_iam_role.deploy)) == sort(var.expected_environments)
    error_message = "expected one plan and one deploy role for each of ${join(", ", var.expected_environments)}; got plan ${join(", ", keys(aws_iam_role.plan))}, deploy ${join(", ", keys(aws_iam_role.deploy))}"
  }

  assert {
    condition = alltrue([for e in var.expected_environments :
      aws_iam_role_policy_attachment.plan_read_only[e].policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess" &&
      aws_iam_role_policy_attachment.deploy_power_user[e].policy_arn == "arn:aws:iam::aws:policy/PowerUserAccess" &&
      aws_iam_role_policy.plan[e].role == aws_iam_role.plan[e].name &&
      aws_iam_role_policy.deploy[e].role == aws_iam_role.deploy[e].name
    ])
    error_message = "each plan role must have ReadOnlyAccess and its inline policy, each deploy role PowerUserAccess and its inline policy"
  }

  assert {
    condition     = length(distinct(concat([for r in aws_iam_role.plan : r.name], [for r in aws_iam_role.deploy : r.name]))) == 2 * length(var.expected_environments)
    error_message = "role names must be unique"
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 1 && aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && toset(aws_iam_openid_connect_provider.github[0].client_id_list) == toset(["sts.amazonaws.com"])
    error_message = "without github_oidc_provider_arn the root must create GitHub's OIDC provider with audience sts.amazonaws.com"
  }
}

run "trust_policies_name_exactly_one_github_environment" {
  command = apply

  # Every trust policy: one statement, web identity from the OIDC provider,
  # StringEquals (never StringLike) on exactly aud and sub.
  assert {
    condition = alltrue([for r in concat(values(aws_iam_role.plan), values(aws_iam_role.deploy)) :
      length(jsondecode(r.assume_role_policy).Statement) == 1 &&
      jsondecode(r.assume_role_policy).Statement[0].Effect == "Allow" &&
      jsondecode(r.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity" &&
      jsondecode(r.assume_role_policy).Statement[0].Principal == { Federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" } &&
      keys(jsondecode(r.assume_role_policy).Statement[0].Condition) == ["StringEquals"] &&
      keys(jsondecode(r.assume_role_policy).Statement[0].Condition.StringEquals) == ["token.actions.githubusercontent.com:aud", "token.actions.githubusercontent.com:sub"] &&
      jsondecode(r.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    ])
    error_message = "every trust policy must be one Allow of sts:AssumeRoleWithWebIdentity from the OIDC provider, conditioned only by StringEquals on aud = sts.amazonaws.com and sub"
  }

  assert {
    condition = alltrue([for e in var.expected_environments :
      jsondecode(aws_iam_role.plan[e].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/example-repo:environment:${e}-plan" &&
      jsondecode(aws_iam_role.deploy[e].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/example-repo:environment:${e}"
    ])
    error_message = "plan roles must trust repo:<repo>:environment:<env>-plan, deploy roles repo:<repo>:environment:<env>, exactly"
  }

  # A token from GitHub environment X matches the role whose sub equals X and
  # no other: the "<env>-plan" environment reaches only the plan role, the
  # "<env>" environment only the deploy role.
  assert {
    condition = alltrue([for e in var.expected_environments :
      [for r in concat(values(aws_iam_role.plan), values(aws_iam_role.deploy)) : r.name
      if jsondecode(r.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/example-repo:environment:${e}-plan"] == [aws_iam_role.plan[e].name] &&
      [for r in concat(values(aws_iam_role.plan), values(aws_iam_role.deploy)) : r.name
      if jsondecode(r.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/example-repo:environment:${e}"] == [aws_iam_role.deploy[e].name]
    ])
    error_message = "the <env>-plan environment must reach only the plan role and the <env> environment only the deploy role"
  }
}

run "plan_role_reads_state_and_writes_only_the_lock" {
  command = apply

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.plan[e].policy).Statement :
      s.Effect == "Allow" && contains(s.Action, "s3:GetObject") && contains(try(s.Resource, []), "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate")
    ])])
    error_message = "a plan role must read s3://<bucket>/iceberg-lakehouse/<env>/terraform.tfstate"
  }

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.plan[e].policy).Statement :
      s.Effect == "Allow" && toset(s.Action) == toset(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]) && try(s.Resource, null) == ["arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate.tflock"]
    ])])
    error_message = "a plan role must read, create and delete its lock object <key>.tflock (a plan takes the lock)"
  }

  # Every Allow of an S3 write (Put*, Delete*, s3:* or *) names only the lock object.
  assert {
    condition = alltrue([for e in var.expected_environments : alltrue([for s in jsondecode(aws_iam_role_policy.plan[e].policy).Statement :
      s.Effect != "Allow" || !anytrue([for a in flatten([s.Action]) : can(regex("^(s3:(Put|Delete|\\*)|\\*$)", a))]) ||
      try(s.Resource, null) == ["arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate.tflock"]
    ])])
    error_message = "a plan role may write nothing but its lock object: never the state"
  }

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.plan[e].policy).Statement :
      s.Effect == "Deny" && contains(s.Action, "s3:PutObject*") && contains(s.Action, "s3:DeleteObject*") && contains(try(s.Resource, []), "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate")
    ])])
    error_message = "a plan role must explicitly deny writing and deleting its state object"
  }

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.plan[e].policy).Statement :
      s.Effect == "Allow" && s.Action == ["s3:ListBucket"] && try(s.Resource, null) == ["arn:aws:s3:::example-state-bucket"] && try(s.Condition, null) == { StringLike = { "s3:prefix" = ["iceberg-lakehouse/${e}/*"] } }
    ])])
    error_message = "a plan role lists the state bucket under its environment's prefix only"
  }

  # Object reads are denied everywhere but the state and its lock (other
  # environments' state included).
  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.plan[e].policy).Statement :
      s.Effect == "Deny" && s.Action == ["s3:GetObject*"] && toset(try(s.NotResource, [])) == toset([
        "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate",
        "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate.tflock",
      ])
    ])])
    error_message = "a plan role must be denied every object read but its state and lock"
  }
}

run "deploy_role_state_ledger_and_iam_scope" {
  command = apply

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect == "Allow" && toset(s.Action) == toset(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]) && toset(try(s.Resource, [])) == toset([
        "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate",
        "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate.tflock",
      ])
    ])])
    error_message = "a deploy role must read, write and delete its state and lock objects"
  }

  # Ledger writes: only its own prefix (besides its state and lock).
  assert {
    condition = alltrue([for e in var.expected_environments : alltrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect != "Allow" || !anytrue([for a in flatten([s.Action]) : can(regex("^(s3:(Put|Delete|\\*)|\\*$)", a))]) ||
      alltrue([for r in try(s.Resource, ["<NotResource>"]) : contains([
        "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate",
        "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/terraform.tfstate.tflock",
        "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/releases/*",
      ], r)])
    ])])
    error_message = "a deploy role may write only its own state, lock and ledger (iceberg-lakehouse/<env>/releases/*)"
  }

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect == "Allow" && s.Action == ["s3:PutObject"] && try(s.Resource, null) == ["arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/releases/*"]
    ])])
    error_message = "a deploy role must record in its own ledger"
  }

  # Ledger reads: its own, plus the upstream its tfvars names (read here
  # from the file, independently of the root).
  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect == "Allow" && s.Action == ["s3:GetObject"] && try(s.Resource, null) == concat(
        ["arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/releases/*"],
        [for u in [try(regex("promotion_upstream\\s*=\\s*\"([a-z0-9]+)\"", file("../environments/${e}.tfvars"))[0], "")] : "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${u}/releases/*" if u != ""],
      )
    ])])
    error_message = "a deploy role must read its own ledger and its upstream's (promotion_upstream), no other"
  }

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect == "Allow" && s.Action == ["s3:ListBucket"] && try(s.Resource, null) == ["arn:aws:s3:::example-state-bucket"] && try(s.Condition.StringLike["s3:prefix"], null) == concat(
        ["iceberg-lakehouse/${e}/*"],
        [for u in [try(regex("promotion_upstream\\s*=\\s*\"([a-z0-9]+)\"", file("../environments/${e}.tfvars"))[0], "")] : "iceberg-lakehouse/${u}/releases/*" if u != ""],
      )
    ])])
    error_message = "a deploy role lists only its own prefix and its upstream's ledger"
  }

  # No other environment's state or ledger can be written: the explicit Deny
  # exempts only the environment's own prefix and buckets.
  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect == "Deny" && contains(s.Action, "s3:PutObject*") && contains(s.Action, "s3:DeleteObject*") && toset(try(s.NotResource, [])) == toset([
        "arn:aws:s3:::example-state-bucket/iceberg-lakehouse/${e}/*",
        "arn:aws:s3:::${regex("project_name\\s*=\\s*\"([a-z0-9-]+)\"", file("../environments/${e}.tfvars"))[0]}-${e}-*/*",
      ])
    ])])
    error_message = "a deploy role must be denied object writes outside its own state prefix and its own buckets"
  }

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect == "Deny" && toset(s.Action) == toset(["s3:Put*", "s3:Delete*"]) && try(s.Resource, null) == ["arn:aws:s3:::example-state-bucket"]
    ])])
    error_message = "a deploy role must not reconfigure or delete the state bucket (policy, lifecycle, versioning)"
  }

  # IAM: exactly the aws root's names for the environment, and PassRole to ECS only.
  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect == "Allow" && contains(s.Action, "iam:CreateRole") && contains(s.Action, "iam:PutRolePolicy") && !contains(s.Action, "iam:PassRole") && try(s.Resource, null) == [
        "arn:aws:iam::123456789012:role/${regex("project_name\\s*=\\s*\"([a-z0-9-]+)\"", file("../environments/${e}.tfvars"))[0]}-${e}-*",
        "arn:aws:iam::123456789012:policy/${regex("project_name\\s*=\\s*\"([a-z0-9-]+)\"", file("../environments/${e}.tfvars"))[0]}-${e}-*",
        "arn:aws:iam::123456789012:instance-profile/${regex("project_name\\s*=\\s*\"([a-z0-9-]+)\"", file("../environments/${e}.tfvars"))[0]}-${e}-*",
      ]
    ])])
    error_message = "a deploy role manages IAM roles, policies and instance profiles named <project>-<env>-* only"
  }

  assert {
    condition = alltrue([for e in var.expected_environments : anytrue([for s in jsondecode(aws_iam_role_policy.deploy[e].policy).Statement :
      s.Effect == "Allow" && s.Action == ["iam:PassRole"] && try(s.Resource, null) == ["arn:aws:iam::123456789012:role/${regex("project_name\\s*=\\s*\"([a-z0-9-]+)\"", file("../environments/${e}.tfvars"))[0]}-${e}-*"] &&
      try(s.Condition, null) == { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
    ])])
    error_message = "a deploy role passes only its environment's roles, and only to ECS tasks"
  }

  # No CI role falls under any environment's IAM scope ("role/<project>-<env>-*"),
  # so no deploy role can edit a CI role.
  assert {
    condition = alltrue(flatten([for r in concat(values(aws_iam_role.plan), values(aws_iam_role.deploy)) : [for e in var.expected_environments :
      !startswith("${trimprefix(r.path, "/")}${r.name}", "${regex("project_name\\s*=\\s*\"([a-z0-9-]+)\"", file("../environments/${e}.tfvars"))[0]}-${e}-")
    ]]))
    error_message = "a CI role's path and name must not match any environment's IAM name prefix"
  }

  assert {
    condition     = alltrue([for e in var.expected_environments : aws_iam_role.deploy[e].max_session_duration == 4 * 3600 && aws_iam_role.plan[e].max_session_duration == 3600])
    error_message = "deploy sessions may last 4 hours by default, plan sessions 1 hour"
  }
}

run "outputs_for_github_environments" {
  command = apply

  assert {
    condition     = toset(keys(output.github_environment_variables)) == toset(concat(var.expected_environments, [for e in var.expected_environments : "${e}-plan"]))
    error_message = "github_environment_variables must have one entry per GitHub environment: <env> and <env>-plan"
  }

  assert {
    condition = alltrue([for e in var.expected_environments :
      output.github_environment_variables["${e}-plan"] == { AWS_REGION = regex("aws_region\\s*=\\s*\"([a-z0-9-]+)\"", file("../environments/${e}.tfvars"))[0], AWS_PLAN_ROLE_ARN = aws_iam_role.plan[e].arn } &&
      output.github_environment_variables[e] == { AWS_REGION = regex("aws_region\\s*=\\s*\"([a-z0-9-]+)\"", file("../environments/${e}.tfvars"))[0], AWS_DEPLOY_ROLE_ARN = aws_iam_role.deploy[e].arn } &&
      output.roles[e].plan_role_arn == aws_iam_role.plan[e].arn && output.roles[e].deploy_role_arn == aws_iam_role.deploy[e].arn
    ])
    error_message = "<env>-plan must get AWS_PLAN_ROLE_ARN, <env> AWS_DEPLOY_ROLE_ARN, both AWS_REGION from the environment's tfvars"
  }

  assert {
    condition = alltrue([for e in var.expected_environments :
      output.github_environment_protection[e].required_reviewers == can(regex("(?m)^\\s*promotion_requires_approval\\s*=\\s*true", file("../environments/${e}.tfvars"))) &&
      output.github_environment_protection["${e}-plan"].required_reviewers == false
    ])
    error_message = "required reviewers must follow promotion_requires_approval, on deploy environments only"
  }

  assert {
    condition     = output.github_oidc_provider_arn == aws_iam_openid_connect_provider.github[0].arn
    error_message = "the created OIDC provider's ARN must be an output"
  }
}

run "existing_oidc_provider_is_used_not_created" {
  command = apply

  variables {
    github_oidc_provider_arn = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "with github_oidc_provider_arn the root must not create a provider"
  }

  assert {
    condition = alltrue([for r in concat(values(aws_iam_role.plan), values(aws_iam_role.deploy)) :
      jsondecode(r.assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    ]) && output.github_oidc_provider_arn == "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    error_message = "every role must trust the provider passed in"
  }
}

run "environments_subset" {
  command = plan

  variables {
    environments = [var.expected_environments[0]]
  }

  assert {
    condition     = sort(keys(aws_iam_role.plan)) == sort([var.expected_environments[0]]) && sort(keys(aws_iam_role.deploy)) == sort([var.expected_environments[0]])
    error_message = "environments must restrict the roles to the subset"
  }
}

run "environments_outside_the_files_are_refused" {
  command = plan

  variables {
    environments = ["no-such-environment"]
  }

  expect_failures = [var.environments]
}

run "repository_wildcards_are_refused" {
  command = plan

  variables {
    github_repository = "example-org/*"
  }

  expect_failures = [var.github_repository]
}

# The bucket default is asserted by tests/infra/ci_identity_test.go, which
# writes a real bucket name into a copy of aws/backend.tfbackend: here the
# committed placeholder would trip the state_bucket_is_set check.
run "region_defaults_to_the_aws_backend_file" {
  command = plan

  variables {
    region = null
  }

  assert {
    condition     = local.region == regex("(?m)^\\s*region\\s*=\\s*\"([^\"]+)\"", file("../aws/backend.tfbackend"))[0]
    error_message = "without region the provider must use the region of aws/backend.tfbackend"
  }
}
