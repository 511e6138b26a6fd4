package terraform

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// runtimeRoot is a cloud root with the runtime contract of aws/ and gcp/
// (dagster_image validated, never committed; outputs dagster_env,
// dagster_image, gate_image), built-in features only.
const runtimeRoot = `
variable "project_name" { type = string }
variable "environment" { type = string }
variable "enable_dagster" { type = bool }
variable "dagster_image" {
  type    = string
  default = null
  validation {
    condition     = var.dagster_image == null ? !var.enable_dagster : can(regex("@sha256:[0-9a-f]{64}$", var.dagster_image))
    error_message = "dagster_image must be a digest reference."
  }
}
variable "gate_image" {
  type    = string
  default = null
}
resource "terraform_data" "runtime" {
  input = var.dagster_image
}
output "dagster_env" {
  value = {
    LAKEHOUSE_ENVIRONMENT = var.environment
    ICEBERG_CATALOG_URI   = "https://nessie.${var.environment}.example/iceberg/main"
    ICEBERG_WAREHOUSE     = "s3://${var.project_name}-${var.environment}-lakehouse/warehouse"
    AWS_REGION            = "us-east-1"
  }
}
output "dagster_image" { value = var.enable_dagster ? var.dagster_image : null }
output "gate_image" { value = var.gate_image }
output "db_password" {
  value     = "never-in-an-env-file"
  sensitive = true
}
`

// runIn runs argv in dir with the real terraform binary and returns its
// exit code and combined output.
func runIn(t *testing.T, bin, dir string, argv []string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+os.DevNull, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		require.NoError(t, err)
	}
	return 0, string(out)
}

// TestHostReleaseVarsReachThePlanAndComeBackAsOutputs runs the argv of
// PlanWithVars, Apply, OutputJSON and DriftWithVars with real terraform: a
// digest given on the command line wins over the committed tfvars, the
// applied outputs give RuntimeEnv and RunningImages, and passing the
// running images back plans no change (an infrastructure-only plan keeps
// the release), while leaving them out is refused by the validation.
func TestHostReleaseVarsReachThePlanAndComeBackAsOutputs(t *testing.T) {
	bin := terraformBinary(t)
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "aws"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "environments"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "aws", "main.tf"), []byte(runtimeRoot), 0o644))
	// A tag committed by mistake: the release's -var must win over it.
	tfvars := "project_name = \"lakehouse\"\nenvironment = \"zzfixture\"\ncloud_provider = \"aws\"\nenable_dagster = true\ndagster_image = \"ghcr.io/acme/lakehouse:v1\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "environments", "zzfixture.tfvars"), []byte(tfvars), 0o644))
	cat, err := environment.Discover(os.DirFS(root))
	require.NoError(t, err)
	env, err := cat.Lookup("zzfixture")
	require.NoError(t, err)
	tg, err := NewTarget(env, AWS)
	require.NoError(t, err)
	dir := filepath.Join(root, tg.Workdir())

	code, out := runIn(t, bin, dir, []string{"terraform", "init", "-input=false", "-no-color"})
	require.Zero(t, code, out)

	code, out = runIn(t, bin, dir, tg.Plan("refused.tfplan"))
	assert.Equal(t, 1, code, "the committed tag alone must be refused:\n%s", out)
	assert.Contains(t, out, "dagster_image must be a digest reference")

	code, out = runIn(t, bin, dir, tg.PlanWithVars(tg.PlanFile(), map[string]string{"dagster_image": testDigest}))
	require.Equal(t, 2, code, out)
	code, out = runIn(t, bin, dir, tg.Apply(tg.PlanFile()))
	require.Zero(t, code, out)

	_, outputs := runIn(t, bin, dir, tg.OutputJSON())
	runtimeEnv, err := RuntimeEnv([]byte(outputs))
	require.NoError(t, err, outputs)
	assert.Equal(t, map[string]string{
		"LAKEHOUSE_ENVIRONMENT": "zzfixture",
		"ICEBERG_CATALOG_URI":   "https://nessie.zzfixture.example/iceberg/main",
		"ICEBERG_WAREHOUSE":     "s3://lakehouse-zzfixture-lakehouse/warehouse",
		"AWS_REGION":            "us-east-1",
	}, runtimeEnv)
	dotenv, err := RenderDotenv(runtimeEnv)
	require.NoError(t, err)
	assert.NotContains(t, string(dotenv), "never-in-an-env-file")

	running, err := RunningImages([]byte(outputs))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"dagster_image": testDigest}, running, "gate_image is null: nothing to pass back")

	code, out = runIn(t, bin, dir, tg.PlanWithVars("again.tfplan", running))
	assert.Zero(t, code, "passing the running image back must plan no change:\n%s", out)
	code, out = runIn(t, bin, dir, tg.DriftWithVars(running))
	assert.Zero(t, code, "drift with the running image: none\n%s", out)
	code, out = runIn(t, bin, dir, tg.Drift())
	assert.Equal(t, 1, code, "drift without the running image is refused, not a silent rollback:\n%s", out)
	assert.True(t, strings.Contains(out, "dagster_image"), out)
}
