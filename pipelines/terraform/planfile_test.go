package terraform

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// These tests read saved plan files that real terraform wrote (see
// TestHostPlanFileBindingTestdataIsCurrent).

func readPlanFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "planfiles", name))
	require.NoError(t, err)
	return b
}

func TestReadPlanBindingReadsWhatTerraformRecorded(t *testing.T) {
	b, err := ReadPlanBinding(readPlanFile(t, devPlanFile))
	require.NoError(t, err)
	assert.Equal(t, PlanBinding{
		BackendType: "s3",
		StateKey:    "iceberg-lakehouse/dev/terraform.tfstate",
		Workspace:   "default",
		Environment: "dev",
	}, b)

	b, err = ReadPlanBinding(readPlanFile(t, workspacePlanFile))
	require.NoError(t, err)
	assert.Equal(t, PlanBinding{BackendType: "s3", StateKey: "iceberg-lakehouse/staging/terraform.tfstate", Workspace: "feature", Environment: "staging"}, b)
}

func TestSavedPlanAppliesOnlyToItsOwnEnvironmentAndCloud(t *testing.T) {
	b, err := ReadPlanBinding(readPlanFile(t, devPlanFile))
	require.NoError(t, err)
	require.NoError(t, target(t, "dev", AWS).CheckPlan(b))

	tests := []struct {
		name string
		tg   Target
		want string
	}{
		{"another environment", target(t, "prod", AWS),
			"plan file was made for environment dev (state iceberg-lakehouse/dev/terraform.tfstate, s3) but this call applies prod/aws (state iceberg-lakehouse/prod/terraform.tfstate): plan prod again, or apply the file with --env dev"},
		{"another cloud", target(t, "dev", GCP),
			"plan file was made for environment dev (state iceberg-lakehouse/dev/terraform.tfstate, s3) but this call applies dev/gcp (state iceberg-lakehouse/dev, gcs): plan dev again, or apply the file with --cloud-provider aws"},
		{"another environment and cloud", target(t, "staging", GCP),
			"plan file was made for environment dev (state iceberg-lakehouse/dev/terraform.tfstate, s3) but this call applies staging/gcp (state iceberg-lakehouse/staging, gcs): plan staging again, or apply the file with --env dev --cloud-provider aws"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tg.CheckPlan(b)
			var mismatch *PlanMismatchError
			require.ErrorAs(t, err, &mismatch)
			assert.Equal(t, b, mismatch.Plan)
			assert.Equal(t, tt.tg.String(), mismatch.Target)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestCheckPlanRefusesForeignWorkspaceKeyOrEnvironment(t *testing.T) {
	ws, err := ReadPlanBinding(readPlanFile(t, workspacePlanFile))
	require.NoError(t, err)
	err = target(t, "staging", AWS).CheckPlan(ws)
	require.Error(t, err)
	assert.Equal(t, "plan file was made for environment staging (state iceberg-lakehouse/staging/terraform.tfstate, s3, workspace feature) "+
		"but this call applies staging/aws (state iceberg-lakehouse/staging/terraform.tfstate, workspace default): plan staging again", err.Error())

	gcpDev := PlanBinding{BackendType: "gcs", StateKey: "iceberg-lakehouse/dev", Workspace: "default", Environment: "dev"}
	assert.NoError(t, target(t, "dev", GCP).CheckPlan(gcpDev))
	for name, b := range map[string]PlanBinding{
		// The right key, but the variables of another environment (-var).
		"environment variable of another environment": {BackendType: "gcs", StateKey: "iceberg-lakehouse/dev", Workspace: "default", Environment: "prod"},
		"no environment variable":                     {BackendType: "gcs", StateKey: "iceberg-lakehouse/dev", Workspace: "default"},
		"a key outside the pipeline's layout":         {BackendType: "gcs", StateKey: "other/dev", Workspace: "default", Environment: "dev"},
	} {
		t.Run(name, func(t *testing.T) {
			err := target(t, "dev", GCP).CheckPlan(b)
			var mismatch *PlanMismatchError
			require.ErrorAs(t, err, &mismatch, name)
			assert.Contains(t, err.Error(), "but this call applies dev/gcp (state iceberg-lakehouse/dev)")
		})
	}
}

func TestReadPlanBindingRefusesPlanWithLocalState(t *testing.T) {
	_, err := ReadPlanBinding(readPlanFile(t, localPlanFile))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrPlanWithoutBackend), "%v", err)
	assert.False(t, errors.Is(err, ErrNotPlanFile), "a local-state plan is a plan file: %v", err)
	assert.Contains(t, err.Error(), "plan file records no s3 or gcs backend (it was made with local state), so it belongs to no environment: make the plan with the pipeline (`plan --env ENV`)")
}

func zipOf(t *testing.T, entries map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range entries {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write(content)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestReadPlanBindingRefusesWhatIsNotAPlanFile(t *testing.T) {
	real := readPlanFile(t, devPlanFile)
	version := func(v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), v)
	}
	tests := map[string]struct {
		in   []byte
		want string
	}{
		"empty":                  {nil, "not a zip archive"},
		"the plan's JSON":        {readPlan(t, "create.json"), "not a zip archive"},
		"a truncated plan file":  {real[:len(real)/2], "not a zip archive"},
		"a zip without tfplan":   {zipOf(t, map[string][]byte{"tfstate": []byte("{}")}), `the zip archive has no "tfplan" entry`},
		"garbage tfplan":         {zipOf(t, map[string][]byte{"tfplan": {0xff, 0xff, 0xff}}), "entry tfplan: protobuf"},
		"tfplan of no version":   {zipOf(t, map[string][]byte{"tfplan": {}}), "entry tfplan: no format version"},
		"tfplan of a future fmt": {zipOf(t, map[string][]byte{"tfplan": version(4)}), "entry tfplan: format version 4, this pipeline reads version 3"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ReadPlanBinding(tt.in)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrNotPlanFile), "%v", err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "terraform plan -out")
		})
	}
}
