package infra

// The CI identity root (ci-identity/): the GitHub OIDC provider and, per
// environment, the plan and deploy roles the workflows assume. These tests
// hold it to the files and code it mirrors: the environments are files, the
// state keys and ledger prefixes are the pipeline's, the provider is the
// aws root's. The terraform test run checks the policies themselves.

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/ledger"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

const ciIdentityDir = "ci-identity"

// ciIdentitySources are the root's configuration and test files.
func ciIdentitySources(t *testing.T, tree string) []string {
	t.Helper()
	tf, err := filepath.Glob(filepath.Join(tree, ciIdentityDir, "*.tf"))
	require.NoError(t, err)
	tests, err := filepath.Glob(filepath.Join(tree, ciIdentityDir, "tests", "*.tftest.hcl"))
	require.NoError(t, err)
	require.NotEmpty(t, tf, "no %s/*.tf", ciIdentityDir)
	require.NotEmpty(t, tests, "no %s/tests/*.tftest.hcl", ciIdentityDir)
	return append(tf, tests...)
}

// The environments are files: no environment name may be written in the
// root or its tests (adding environments/<env>.tfvars must be enough).
func TestCiIdentityNamesNoEnvironment(t *testing.T) {
	root := repoRoot(t)
	files, err := loadTfvars(root)
	require.NoError(t, err)
	sources := ciIdentitySources(t, root)
	for _, f := range files {
		word := regexp.MustCompile(`\b` + regexp.QuoteMeta(f.Env) + `\b`)
		for _, path := range sources {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			for i, line := range strings.Split(string(data), "\n") {
				assert.False(t, word.MatchString(line), "%s:%d names the environment %q (from %s): derive it from environments/*.tfvars instead:\n%s",
					rel(root, path), i+1, f.Env, f.Path, line)
			}
		}
	}
}

// The root grants access to the keys the pipeline computes, with the aws
// root's provider, and is linted like the other roots.
func TestCiIdentityFollowsThePipelineAndTheAwsRoot(t *testing.T) {
	root := repoRoot(t)
	ci, err := loadModule(root, ciIdentityDir)
	require.NoError(t, err)
	aws, err := loadModule(root, "aws")
	require.NoError(t, err)

	// local.state_project is pipelines/terraform.StateProject.
	sp, ok := ci.Locals["state_project"]
	require.True(t, ok, "%s must define local.state_project", ciIdentityDir)
	v, diags := sp.Expr.Value(nil)
	require.False(t, diags.HasErrors(), "local.state_project must be a literal: %s", diags)
	assert.Equal(t, terraform.StateProject, v.AsString(), "%s: local.state_project must be pipelines/terraform.StateProject", rel(root, sp.SrcRange.Filename))

	// The key shapes the root writes as "<project>/<env>/terraform.tfstate",
	// "….tflock" and "<project>/<env>/releases" are the pipeline's.
	cat, err := environment.Discover(os.DirFS(root))
	require.NoError(t, err)
	require.NotEmpty(t, cat.Envs())
	for _, env := range cat.Envs() {
		b, err := terraform.BackendFor(env, terraform.AWS)
		require.NoError(t, err)
		assert.Equal(t, terraform.StateProject+"/"+env.Name()+"/terraform.tfstate", b.StateObject())
		assert.Equal(t, terraform.StateProject+"/"+env.Name()+"/terraform.tfstate.tflock", b.LockObject())
		prefix, err := ledger.Prefix(env)
		require.NoError(t, err)
		assert.Equal(t, terraform.StateProject+"/"+env.Name()+"/releases", prefix)
		assert.Equal(t, prefix, promotion.LedgerPrefix(terraform.StateProject, env.Name()))
	}

	// The IAM scope "<project_name>-<env>-*" is the aws root's name_prefix.
	np, ok := aws.Locals["name_prefix"]
	require.True(t, ok, "aws/locals.tf must define name_prefix")
	src, err := os.ReadFile(np.SrcRange.Filename)
	require.NoError(t, err)
	assert.Equal(t, `"${var.project_name}-${var.environment}"`, string(np.Expr.Range().SliceBytes(src)),
		"aws/ names its IAM roles and buckets after name_prefix; %s scopes the deploy roles to <project_name>-<env>-*: keep them in step", ciIdentityDir)

	// Same provider constraint and Terraform version as aws/, and the same
	// lock file (so it is valid here).
	ciProviders, err := requiredProviders(ci)
	require.NoError(t, err)
	awsProviders, err := requiredProviders(aws)
	require.NoError(t, err)
	require.Contains(t, ciProviders, "registry.terraform.io/hashicorp/aws")
	assert.Len(t, ciProviders, 1, "%s needs only the aws provider", ciIdentityDir)
	assert.Equal(t, awsProviders["registry.terraform.io/hashicorp/aws"].Constraint, ciProviders["registry.terraform.io/hashicorp/aws"].Constraint,
		"%s must use aws/versions.tf's provider constraint", ciIdentityDir)
	assert.Equal(t, requiredVersion(t, aws), requiredVersion(t, ci))
	awsLock, err := os.ReadFile(filepath.Join(root, terraform.AWS.LockFile()))
	require.NoError(t, err)
	ciLock, err := os.ReadFile(filepath.Join(root, ciIdentityDir, ".terraform.lock.hcl"))
	require.NoError(t, err, "commit %s/.terraform.lock.hcl (a copy of %s)", ciIdentityDir, terraform.AWS.LockFile())
	assert.Equal(t, string(awsLock), string(ciLock), "%s/.terraform.lock.hcl must be a copy of %s", ciIdentityDir, terraform.AWS.LockFile())

	// make lint-terraform formats it like the other roots.
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^lint-terraform:\n\t@dirs=\$\$\(for d in ([^;]+);`).FindSubmatch(mk)
	require.NotNil(t, m, "Makefile: lint-terraform's directory loop not found")
	assert.Contains(t, strings.Fields(string(m[1])), ciIdentityDir, "Makefile: lint-terraform must check %s", ciIdentityDir)
}

func requiredVersion(t *testing.T, m *module) string {
	t.Helper()
	for _, tb := range m.Terraform {
		if a, ok := tb.Attributes["required_version"]; ok {
			v, diags := a.Expr.Value(nil)
			require.False(t, diags.HasErrors())
			return v.AsString()
		}
	}
	t.Fatalf("%s: no required_version", m.Dir)
	return ""
}

// requireOrSkip fails where a skip would hide a broken root: in the Dagger
// test function (INFRA_REQUIRE_TERRAFORM_TEST=1) and in make test on CI
// (LAKEHOUSE_REQUIRE_HOST_TOOLS=1); elsewhere it skips with the reason.
func requireOrSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	for _, v := range []string{"INFRA_REQUIRE_TERRAFORM_TEST", "LAKEHOUSE_REQUIRE_HOST_TOOLS"} {
		if os.Getenv(v) == "1" {
			t.Fatalf(format+" (%s=1: failing instead of skipping)", append(args, v)...)
		}
	}
	t.Skipf(format, args...)
}

// ciIdentityTree copies what ci-identity reads (itself, environments/ and
// aws/backend.tfbackend) into a temp dir, without .terraform or state.
func ciIdentityTree(t *testing.T) string {
	t.Helper()
	src, tree := repoRoot(t), t.TempDir()
	for _, dir := range []string{ciIdentityDir, "environments"} {
		err := filepath.WalkDir(filepath.Join(src, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(d.Name(), ".tfstate") || strings.Contains(d.Name(), ".tfstate.")) {
				return nil
			}
			r, err := filepath.Rel(src, path)
			if err != nil {
				return err
			}
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(tree, r), 0o755)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(tree, r), data, 0o644)
		})
		require.NoError(t, err)
	}
	backend, err := os.ReadFile(filepath.Join(src, "aws", terraform.BackendFile))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "aws"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "aws", terraform.BackendFile), backend, 0o644))
	return tree
}

// replaceAttr sets a string attribute of an HCL attributes file, which must
// hold it exactly once.
func replaceAttr(t *testing.T, path, name, value string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	re := regexp.MustCompile(`(?m)^(\s*` + name + `\s*=\s*)"[^"]*"`)
	require.Len(t, re.FindAllIndex(data, -1), 1, "%s must set %s exactly once", path, name)
	require.NoError(t, os.WriteFile(path, re.ReplaceAll(data, []byte(`${1}`+strconv.Quote(value))), 0o644))
}

// hclString quotes s for an HCL template (no interpolation in the values).
func hclString(t *testing.T, s string) string {
	t.Helper()
	require.False(t, strings.Contains(s, "${") || strings.Contains(s, "%{"), "value %q would be interpolated", s)
	return strconv.Quote(s)
}

const (
	contractBucket = "ci-identity-contract-state"
	contractRegion = "eu-central-1"
	contractRepo   = "contract-org/contract-repo"
	contractEnv    = "ciqa"
	// gcpContractEnv deploys to gcp: a chain of its own, no AWS role.
	gcpContractEnv = "cigcp"
)

// contractTest writes a terraform test file with one run per environment
// asserting the exact ARNs and subjects the pipeline's own code computes
// (state key and lock from pipelines/terraform, ledger prefixes from
// pipelines/ledger, upstream, project and approval from
// pipelines/environment), with the bucket and region taken from
// aws/backend.tfbackend by the root itself (no variable given).
func contractTest(t *testing.T, tree string, envs []environment.Env, otherClouds ...string) (string, int) {
	t.Helper()
	tfvars, err := loadTfvars(tree)
	require.NoError(t, err)
	regions := map[string]string{}
	for _, f := range tfvars {
		if v, ok := f.value("aws_region"); ok {
			regions[f.Env] = v.AsString()
		}
	}
	q := func(s string) string { return hclString(t, s) }
	obj := func(key string) string { return q("arn:aws:s3:::" + contractBucket + "/" + key) }
	var b strings.Builder
	fmt.Fprintf(&b, `# Generated by tests/infra/ci_identity_test.go: the pipeline's keys, per environment.
variables {
  github_repository = %s
}

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}
`, q(contractRepo))
	for _, env := range envs {
		n := env.Name()
		be, err := terraform.BackendFor(env, terraform.AWS)
		require.NoError(t, err)
		own, err := ledger.Prefix(env)
		require.NoError(t, err)
		reads := []string{obj(own + "/*")}
		if up := env.Promotion().Upstream; up != "" {
			reads = append(reads, obj(promotion.LedgerPrefix(terraform.StateProject, up)+"/*"))
		}
		region, ok := regions[n]
		require.True(t, ok, "environments/%s.tfvars has no aws_region", n)
		stmt := func(policy, sid string) string {
			return fmt.Sprintf(`one([for s in jsondecode(%s[%s].policy).Statement : s if s.Sid == %s])`, policy, q(n), q(sid))
		}
		trustSub := func(role string) string {
			return fmt.Sprintf(`jsondecode(aws_iam_role.%s[%s].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]`, role, q(n))
		}
		asserts := [][2]string{
			{`local.state_bucket == ` + q(contractBucket) + ` && local.region == ` + q(contractRegion), "bucket and region must come from aws/backend.tfbackend"},
			{trustSub("plan") + ` == ` + q("repo:"+contractRepo+":environment:"+n+"-plan"), "plan role subject"},
			{trustSub("deploy") + ` == ` + q("repo:"+contractRepo+":environment:"+n), "deploy role subject"},
			{stmt("aws_iam_role_policy.plan", "ReadState") + `.Resource == [` + obj(be.StateObject()) + `]`, "plan role reads the pipeline's state key"},
			{stmt("aws_iam_role_policy.plan", "StateLock") + `.Resource == [` + obj(be.LockObject()) + `]`, "plan role writes only the pipeline's lock object"},
			{stmt("aws_iam_role_policy.deploy", "StateReadWrite") + `.Resource == [` + obj(be.StateObject()) + `, ` + obj(be.LockObject()) + `]`, "deploy role state and lock"},
			{stmt("aws_iam_role_policy.deploy", "RecordOwnLedger") + `.Resource == [` + obj(own+"/*") + `]`, "deploy role records in its own ledger"},
			{stmt("aws_iam_role_policy.deploy", "ReadLedgers") + `.Resource == [` + strings.Join(reads, ", ") + `]`, "deploy role reads its own and its upstream's ledger"},
			{stmt("aws_iam_role_policy.deploy", "ManageEnvironmentIam") + `.Resource[0] == ` + q("arn:aws:iam::123456789012:role/"+env.ProjectName()+"-"+n+"-*"), "deploy role manages the aws root's roles of the environment"},
			{`output.github_environment_variables[` + q(n+"-plan") + `].AWS_REGION == ` + q(region) + ` && output.github_environment_variables[` + q(n) + `].AWS_REGION == ` + q(region), "AWS_REGION is the environment's aws_region"},
			{`output.github_environment_protection[` + q(n) + `].required_reviewers == ` + strconv.FormatBool(env.Promotion().RequiresApproval), "required reviewers follow promotion_requires_approval"},
		}
		fmt.Fprintf(&b, "\nrun %s {\n  command = apply\n", q("contract_"+n))
		for _, a := range asserts {
			fmt.Fprintf(&b, "\n  assert {\n    condition     = %s\n    error_message = %s\n  }\n", a[0], q(n+": "+a[1]))
		}
		b.WriteString("}\n")
	}
	// Environments on another cloud get no AWS role at all.
	for _, n := range otherClouds {
		fmt.Fprintf(&b, "\nrun %s {\n  command = apply\n\n  assert {\n    condition     = !contains(keys(aws_iam_role.deploy), %s) && !contains(keys(aws_iam_role.plan), %s) && !contains(keys(output.github_environment_variables), %s)\n    error_message = %s\n  }\n}\n",
			q("contract_no_roles_"+n), q(n), q(n), q(n), q(n+" deploys to another cloud: it must get no AWS role"))
	}
	path := filepath.Join(tree, ciIdentityDir, "tests", "pipeline_contract.tftest.hcl")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path, len(envs) + len(otherClouds)
}

// TestCiIdentityTerraformTestEveryEnvironment runs ci-identity's terraform
// tests (mocked provider) on a copy of the tree with one more environment,
// plus a generated contract test holding the roles to the pipeline's keys.
// Like the aws root's test it needs the aws provider: from the provider
// mirror (TF_PLUGIN_MIRROR), or from the registry.
func TestCiIdentityTerraformTestEveryEnvironment(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		requireOrSkip(t, "terraform binary not on PATH: install Terraform >= 1.10 to test %s", ciIdentityDir)
	}
	tree := ciIdentityTree(t)

	// One more environment, chained after the last of the promotion order:
	// it must get its roles with no code change.
	cat, err := environment.Discover(os.DirFS(tree))
	require.NoError(t, err)
	require.NoError(t, cat.Err())
	order, err := cat.PromotionOrder()
	require.NoError(t, err)
	require.NotEmpty(t, order)
	first, last := order[0], order[len(order)-1]
	added := filepath.Join(tree, "environments", contractEnv+".tfvars")
	data, err := os.ReadFile(filepath.Join(tree, first.TfvarsFile()))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(added, data, 0o644))
	replaceAttr(t, added, "environment", contractEnv)
	replaceAttr(t, added, "promotion_upstream", last.Name())

	// A real-looking bucket and region, read by the root from the file.
	backend := filepath.Join(tree, "aws", terraform.BackendFile)
	replaceAttr(t, backend, "bucket", contractBucket)
	replaceAttr(t, backend, "region", contractRegion)

	// And a chain of its own on gcp: it gets no AWS role.
	gcpEnv := filepath.Join(tree, "environments", gcpContractEnv+".tfvars")
	require.NoError(t, os.WriteFile(gcpEnv, data, 0o644))
	replaceAttr(t, gcpEnv, "environment", gcpContractEnv)
	replaceAttr(t, gcpEnv, "cloud_provider", "gcp")
	replaceAttr(t, gcpEnv, "promotion_upstream", "")

	cat, err = environment.Discover(os.DirFS(tree))
	require.NoError(t, err)
	require.NoError(t, cat.Err())
	require.Len(t, cat.Envs(), len(order)+2)
	var onAWS []environment.Env
	for _, e := range cat.Envs() {
		if e.Cloud() == terraform.AWS.String() {
			onAWS = append(onAWS, e)
		}
	}
	require.Len(t, onAWS, len(order)+1)
	_, contractRuns := contractTest(t, tree, onAWS, gcpContractEnv)

	// Every run block of every test file must run and pass.
	runs := 0
	tests, err := filepath.Glob(filepath.Join(tree, ciIdentityDir, "tests", "*.tftest.hcl"))
	require.NoError(t, err)
	for _, f := range tests {
		body, err := parseHCLFile(f)
		require.NoError(t, err, "%s", f)
		for _, b := range body.Blocks {
			if b.Type == "run" {
				runs++
			}
		}
	}
	require.Greater(t, runs, contractRuns, "the committed tests have no run blocks")

	dir := filepath.Join(tree, ciIdentityDir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	init := terraformCmd(ctx, bin, dir, "init", "-backend=false", "-input=false", "-no-color")
	init.Stdout, init.Stderr = &out, &out
	if err := init.Run(); err != nil {
		requireOrSkip(t, "terraform init of %s failed (no registry access and no mirror? set TF_PLUGIN_MIRROR to a filesystem mirror holding the aws provider):\n%s", ciIdentityDir, out.String())
	}
	for _, args := range [][]string{{"validate", "-no-color"}, {"test", "-no-color"}} {
		out.Reset()
		cmd := terraformCmd(ctx, bin, dir, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Run(), "terraform %s in %s failed:\n%s", args[0], ciIdentityDir, out.String())
	}
	assert.Contains(t, out.String(), fmt.Sprintf("Success! %d passed, 0 failed.", runs), "every run block must run and pass:\n%s", out.String())
}
