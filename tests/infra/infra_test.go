package infra

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// repoRoot is the directory holding go.mod (the tree under test).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found above the test directory")
		dir = parent
	}
}

// tempTree copies the repository's Terraform tree into a temp dir and lets
// mutate edit it before the checks run.
func tempTree(t *testing.T, mutate func(tree string)) string {
	t.Helper()
	tree := t.TempDir()
	require.NoError(t, copyTree(repoRoot(t), tree))
	if mutate != nil {
		mutate(tree)
	}
	return tree
}

// edit replaces old with new in tree/path exactly once.
func edit(t *testing.T, tree, path, old, new string) {
	t.Helper()
	p := filepath.Join(tree, path)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(data), old), "%s must contain %q exactly once", path, old)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}

// lineOf returns the 1-based line of the first occurrence of s in tree/path.
func lineOf(t *testing.T, tree, path, s string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tree, path))
	require.NoError(t, err)
	i := strings.Index(string(data), s)
	require.GreaterOrEqual(t, i, 0, "%q not in %s", s, path)
	return strings.Count(string(data[:i]), "\n") + 1
}

// fixtureEnv is the environment tests add: a name no user would pick, so
// it never collides with one a user added (the README's example is qa).
const fixtureEnv = "zzfixture"

// addEnvironmentFromDev copies environments/dev.tfvars to <env>.tfvars,
// changing only the environment name (what the Terraform roots see).
func addEnvironmentFromDev(t *testing.T, tree, env string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tree, "environments", "dev.tfvars"))
	require.NoError(t, err)
	out := strings.Replace(string(data), `environment  = "dev"`, `environment  = "`+env+`"`, 1)
	require.NotEqual(t, string(data), out, "dev.tfvars must set environment = \"dev\"")
	require.NoError(t, os.WriteFile(filepath.Join(tree, "environments", env+".tfvars"), []byte(out), 0o644))
}

// treeChecks are the structural checks every tree (the repository, or a copy
// with an added environment) must pass with no code change.
var treeChecks = []struct {
	name  string
	check func(tree string) ([]problem, error)
}{
	{"tfvars keys declared", checkTfvarsDeclared},
	{"tfvars values pass validations", func(tree string) ([]problem, error) {
		ps, _, err := checkTfvarsValidations(tree)
		return ps, err
	}},
	{"names carry the environment", checkNamesCarryEnvironment},
	{"names fit provider limits", func(tree string) ([]problem, error) {
		ps, _, err := checkNameLengths(tree)
		return ps, err
	}},
	{"prevent_destroy on state", func(tree string) ([]problem, error) {
		ps, _, err := checkPreventDestroy(tree)
		return ps, err
	}},
	{"terraform fmt", checkFmt},
}

func TestEveryTfvarsKeyIsDeclaredByBothRoots(t *testing.T) {
	ps, err := checkTfvarsDeclared(repoRoot(t))
	require.NoError(t, err)
	assert.Empty(t, ps, problemsText(ps))
}

func TestEveryTfvarsValuePassesBothRootsValidations(t *testing.T) {
	ps, stats, err := checkTfvarsValidations(repoRoot(t))
	require.NoError(t, err)
	assert.Empty(t, ps, problemsText(ps))
	// 3 environments x 2 roots x ~20 evaluable conditions.
	assert.Greater(t, stats.Evaluated, 60, "too few validation conditions were evaluated")
	t.Logf("validation conditions evaluated: %d; skipped (function not provided): %v", stats.Evaluated, stats.Skipped)
	for fn := range stats.Skipped {
		assert.Contains(t, []string{"cidrnetmask", "cidrhost"}, fn, "a validation uses %s, which these tests do not evaluate; add it to functions()", fn)
	}
}

func TestEveryResourceNameCarriesTheEnvironment(t *testing.T) {
	ps, err := checkNamesCarryEnvironment(repoRoot(t))
	require.NoError(t, err)
	assert.Empty(t, ps, problemsText(ps))
}

func TestNamesFitProviderLimitsForLongestAllowedProjectAndEnvironment(t *testing.T) {
	ps, seen, err := checkNameLengths(repoRoot(t))
	require.NoError(t, err)
	assert.Empty(t, ps, problemsText(ps))
	for _, must := range []string{"aws_lb.name", "aws_lb_target_group.name", "google_service_account.account_id", "aws_s3_bucket.bucket", "google_storage_bucket.name",
		"aws_db_instance.identifier", "aws_ecs_service.name", "aws_ecs_task_definition.family", "aws_iam_role.name", "google_cloud_run_v2_service.name", "google_cloud_run_v2_job.name", "google_secret_manager_secret.secret_id"} {
		assert.Contains(t, seen, must, "no %s name was length-checked", must)
	}
}

func TestStorageAndCatalogStateArePreventDestroy(t *testing.T) {
	ps, protected, err := checkPreventDestroy(repoRoot(t))
	require.NoError(t, err)
	assert.Empty(t, ps, problemsText(ps))
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	want := map[string][]string{
		"aws": {"aws_s3_bucket.lakehouse", "aws_kms_key.lakehouse", "aws_dynamodb_table.catalog_refs", "aws_dynamodb_table.catalog_objs"},
		"gcp": {"google_storage_bucket.lakehouse", "google_sql_database_instance.catalog", "google_sql_database.catalog"},
	}
	for root, addrs := range want {
		have := map[string]bool{}
		for _, r := range mods[root].Resources {
			have[r.addr()] = hasPreventDestroy(r.Body)
		}
		for _, a := range addrs {
			assert.True(t, have[a], "%s: %s must exist and carry prevent_destroy", root, a)
		}
	}
	assert.GreaterOrEqual(t, protected, 7)
}

func checkFmt(tree string) ([]problem, error) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return nil, nil // reported by TestTerraformFmtIsClean as a skip
	}
	cmd := exec.Command(bin, "fmt", "-check", "-recursive", "-list=true", ".")
	cmd.Dir = tree
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+os.DevNull)
	out, err := cmd.Output()
	var ps []problem
	for _, f := range strings.Fields(string(out)) {
		ps = append(ps, problem{f, 1, "terraform fmt would rewrite this file"})
	}
	if err != nil && len(ps) == 0 {
		return nil, err
	}
	return ps, nil
}

func TestTerraformFmtIsClean(t *testing.T) {
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("terraform binary not on PATH: install Terraform >= 1.10 to run the fmt check")
	}
	ps, err := checkFmt(tempTree(t, nil))
	require.NoError(t, err)
	assert.Empty(t, ps, problemsText(ps))
}

// TestAddingAnEnvironmentIsAddingAFile copies dev.tfvars under a new name in
// a temp tree and runs every structural check with no code change.
func TestAddingAnEnvironmentIsAddingAFile(t *testing.T) {
	committed, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	tree := tempTree(t, func(tree string) { addEnvironmentFromDev(t, tree, fixtureEnv) })
	files, err := loadTfvars(tree)
	require.NoError(t, err)
	require.Len(t, files, len(committed)+1, "the repository's environments and %s", fixtureEnv)
	for _, tc := range treeChecks {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := tc.check(tree)
			require.NoError(t, err)
			assert.Empty(t, ps, problemsText(ps))
		})
	}
}

// The checkers must be able to fail: each case breaks a temp copy and
// expects the checker to name the file and line.
func TestCheckersReportBrokenTrees(t *testing.T) {
	cases := []struct {
		name    string
		check   func(tree string) ([]problem, error)
		mutate  func(t *testing.T, tree string)
		file    string
		lineOf  string // text whose line the problem must point at
		message string
		needsTF bool // needs the terraform binary
	}{
		{
			name:  "misspelled tfvars key",
			check: checkTfvarsDeclared,
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "environments/dev.tfvars", "enable_alerting       = false", "enable_alertng        = false")
			},
			file: "environments/dev.tfvars", lineOf: "enable_alertng", message: `"enable_alertng" is not declared by the aws root (did you mean "enable_alerting"?)`,
		},
		{
			name:  "tfvars value of the wrong type",
			check: checkTfvarsDeclared,
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "environments/prod.tfvars", "enable_https          = true", `enable_https          = "yes please"`)
			},
			file: "environments/prod.tfvars", lineOf: "enable_https", message: `"enable_https": value does not fit type bool`,
		},
		{
			name: "tfvars value rejected by a validation",
			check: func(tree string) ([]problem, error) {
				ps, _, err := checkTfvarsValidations(tree)
				return ps, err
			},
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "environments/staging.tfvars", "catalog_memory_mib    = 1024", "catalog_memory_mib    = 700")
			},
			file: "environments/staging.tfvars", lineOf: "catalog_memory_mib", message: `rejects "catalog_memory_mib"`,
		},
		{
			name: "environment outside the allowed shape",
			check: func(tree string) ([]problem, error) {
				ps, _, err := checkTfvarsValidations(tree)
				return ps, err
			},
			mutate: func(t *testing.T, tree string) {
				require.NoError(t, os.Rename(filepath.Join(tree, "environments/dev.tfvars"), filepath.Join(tree, "environments/Dev-1.tfvars")))
				edit(t, tree, "environments/Dev-1.tfvars", `environment  = "dev"`, `environment  = "Dev-1"`)
			},
			file: "environments/Dev-1.tfvars", lineOf: "environment  =", message: `rejects "environment"`,
		},
		{
			name:  "environment differs from the file stem",
			check: checkTfvarsDeclared,
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "environments/staging.tfvars", `environment  = "staging"`, `environment  = "prod"`)
			},
			file: "environments/staging.tfvars", lineOf: "environment  =", message: `environment must be "staging"`,
		},
		{
			name: "lakehouse bucket without prevent_destroy",
			check: func(tree string) ([]problem, error) {
				ps, _, err := checkPreventDestroy(tree)
				return ps, err
			},
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "aws/storage.tf", "  bucket = local.bucket_name\n\n  lifecycle {\n    prevent_destroy = true\n  }\n", "  bucket = local.bucket_name\n")
			},
			file: "aws/storage.tf", lineOf: `resource "aws_s3_bucket" "lakehouse"`, message: "aws_s3_bucket.lakehouse holds data or catalog state",
		},
		{
			name: "catalog database instance with prevent_destroy false",
			check: func(tree string) ([]problem, error) {
				ps, _, err := checkPreventDestroy(tree)
				return ps, err
			},
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "gcp/catalog_store.tf", "  # Catalog state: losing it orphans every table's metadata pointer.\n  lifecycle {\n    prevent_destroy = true", "  lifecycle {\n    prevent_destroy = false")
			},
			file: "gcp/catalog_store.tf", lineOf: `resource "google_sql_database_instance" "catalog"`, message: "google_sql_database_instance.catalog holds data or catalog state",
		},
		{
			name:  "resource name without the environment",
			check: checkNamesCarryEnvironment,
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "aws/catalog.tf", `name = "${local.name_prefix}-catalog"`, `name = "${var.project_name}-catalog"`)
			},
			file: "aws/catalog.tf", lineOf: `name = "${var.project_name}-catalog"`, message: "aws_ecs_cluster.catalog name",
		},
		{
			name: "project_name validation loosened past the ALB limit",
			check: func(tree string) ([]problem, error) {
				ps, _, err := checkNameLengths(tree)
				return ps, err
			},
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "aws/variables.tf", `^[a-z][a-z0-9-]{0,10}[a-z0-9]$`, `^[a-z][a-z0-9-]{0,19}[a-z0-9]$`)
			},
			file: "aws/catalog.tf", lineOf: `name                       = "${local.name_prefix}-nessie"`, message: "aws_lb.catalog name",
		},
		{
			name: "tag-only image committed in tfvars",
			check: func(tree string) ([]problem, error) {
				ps, _, err := checkTfvarsValidations(tree)
				return ps, err
			},
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "environments/prod.tfvars", "enable_dagster ", "dagster_image = \"ghcr.io/acme/lakehouse:v1.4.0\"\nenable_dagster ")
			},
			file: "environments/prod.tfvars", lineOf: `dagster_image = "ghcr`, message: `rejects "dagster_image"`,
		},
		{
			name: "Dagster storage without deletion protection",
			check: func(tree string) ([]problem, error) {
				ps, _, err := checkPreventDestroy(tree)
				return ps, err
			},
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "aws/dagster_storage.tf", "  deletion_protection       = var.deletion_protection\n", "  deletion_protection       = false\n")
			},
			file: "aws/dagster_storage.tf", lineOf: `resource "aws_db_instance" "dagster"`, message: "aws_db_instance.dagster holds data or catalog state",
		},
		{
			name: "Dagster service name past the ALB limit",
			check: func(tree string) ([]problem, error) {
				ps, _, err := checkNameLengths(tree)
				return ps, err
			},
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "aws/dagster_web.tf", `name                       = "${local.name_prefix}-dagster"`, `name                       = "${local.name_prefix}-dagster-web"`)
			},
			file: "aws/dagster_web.tf", lineOf: `name                       = "${local.name_prefix}-dagster-web"`, message: "aws_lb.dagster name",
		},
		{
			name:  "unformatted terraform",
			check: checkFmt,
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "aws/locals.tf", "  name_prefix = ", "  name_prefix    =   ")
			},
			file: "aws/locals.tf", lineOf: "locals {", message: "terraform fmt would rewrite", needsTF: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath("terraform"); tc.needsTF && err != nil {
				t.Skip("terraform binary not on PATH: install Terraform >= 1.10 to run the fmt check")
			}
			tree := tempTree(t, func(tree string) { tc.mutate(t, tree) })
			ps, err := tc.check(tree)
			require.NoError(t, err)
			wantLine := lineOf(t, tree, tc.file, tc.lineOf)
			found := false
			for _, p := range ps {
				if p.File == tc.file && p.Line == wantLine && strings.Contains(p.Msg, tc.message) {
					found = true
				}
			}
			assert.True(t, found, "want a problem at %s:%d containing %q; got:\n%s", tc.file, wantLine, tc.message, problemsText(ps))
		})
	}
}

func TestEnvironmentValidationIsAShapeNotAList(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	files, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	cases := []struct {
		env  string
		want bool
	}{
		{"dev", true}, {"staging", true}, {"prod", true}, {"qa", true}, {"perf2", true}, {"sandbox123", true},
		{"d", false}, {"Prod", false}, {"qa-eu", false}, {"2dev", false}, {"sandbox1234", false}, {"", false},
	}
	for _, root := range cloudRoots {
		m := mods[root]
		base := varValues(m, files[0], nil)
		for _, tc := range cases {
			assert.Equal(t, tc.want, accepted(m, base, "environment", cty.StringVal(tc.env)), "%s: environment %q", root, tc.env)
		}
	}
}

// liftPreventDestroy writes an override file into a copy of a root that
// turns every prevent_destroy off (an override file merges lifecycle
// arguments one by one), so that a test can destroy what it created; it
// returns the addresses it lifted. Never in the committed root.
func liftPreventDestroy(t *testing.T, tree, root string) []string {
	t.Helper()
	mods, err := loadModules(tree)
	require.NoError(t, err)
	var override strings.Builder
	var lifted []string
	for _, r := range mods[root].Resources {
		if r.Kind == "resource" && hasPreventDestroy(r.Body) {
			lifted = append(lifted, r.addr())
			fmt.Fprintf(&override, "resource %q %q {\n  lifecycle {\n    prevent_destroy = false\n  }\n}\n", r.Type, r.Name)
		}
	}
	require.NotEmpty(t, lifted, "%s has no prevent_destroy to lift", root)
	require.NoError(t, os.WriteFile(filepath.Join(tree, root, "zz_test_lift_prevent_destroy_override.tf"), []byte(override.String()), 0o644))
	return lifted
}
