# GitHub Actions' OIDC issuer. An account can hold only one provider per
# URL: where one exists already, pass its ARN as github_oidc_provider_arn and
# this root uses it instead of creating one.
#
# No thumbprint_list: the provider computes it, and AWS verifies GitHub's
# tokens against its own library of trusted root CAs, not the thumbprint.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_oidc_provider_arn == null ? 1 : 0

  url            = "https://${local.github_oidc_host}"
  client_id_list = [local.github_oidc_audience]
}
