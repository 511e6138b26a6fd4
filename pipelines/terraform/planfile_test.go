package terraform

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// These tests read saved plan files that real terraform wrote (see
// TestHostPlanFileBindingTestdataIsCurrent).

// The environments the committed plan files were made for: terraform
// recorded them in the binary files, so only regenerating the files (with
// the host test's environments) can change these. Every other environment
// in this file is invented.
const (
	planFileEnv          = "dev"     // devPlanFile
	workspacePlanFileEnv = "staging" // workspacePlanFile
)

// inPlanFileEnvs spells <plan> and <ws> as the plan files' environments.
var inPlanFileEnvs = strings.NewReplacer("<plan>", planFileEnv, "<ws>", workspacePlanFileEnv).Replace

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
		StateKey:    "iceberg-lakehouse/" + planFileEnv + "/terraform.tfstate",
		Workspace:   "default",
		Environment: planFileEnv,
	}, b)

	b, err = ReadPlanBinding(readPlanFile(t, workspacePlanFile))
	require.NoError(t, err)
	assert.Equal(t, PlanBinding{BackendType: "s3", StateKey: "iceberg-lakehouse/" + workspacePlanFileEnv + "/terraform.tfstate", Workspace: "feature", Environment: workspacePlanFileEnv}, b)
}

func TestSavedPlanAppliesOnlyToItsOwnEnvironmentAndCloud(t *testing.T) {
	b, err := ReadPlanBinding(readPlanFile(t, devPlanFile))
	require.NoError(t, err)
	require.NoError(t, target(t, planFileEnv, AWS).CheckPlan(b))

	tests := []struct {
		name string
		tg   Target
		want string
	}{
		{"another environment", target(t, "zzomega", AWS),
			"plan file was made for environment <plan> (state iceberg-lakehouse/<plan>/terraform.tfstate, s3) but this call applies zzomega/aws (state iceberg-lakehouse/zzomega/terraform.tfstate): plan zzomega again, or apply the file with --env <plan>"},
		{"another cloud", target(t, planFileEnv, GCP),
			"plan file was made for environment <plan> (state iceberg-lakehouse/<plan>/terraform.tfstate, s3) but this call applies <plan>/gcp (state iceberg-lakehouse/<plan>, gcs): plan <plan> again, or apply the file with --cloud-provider aws"},
		{"another environment and cloud", target(t, "zzgamma", GCP),
			"plan file was made for environment <plan> (state iceberg-lakehouse/<plan>/terraform.tfstate, s3) but this call applies zzgamma/gcp (state iceberg-lakehouse/zzgamma, gcs): plan zzgamma again, or apply the file with --env <plan> --cloud-provider aws"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tg.CheckPlan(b)
			var mismatch *PlanMismatchError
			require.ErrorAs(t, err, &mismatch)
			assert.Equal(t, b, mismatch.Plan)
			assert.Equal(t, tt.tg.String(), mismatch.Target)
			assert.Equal(t, inPlanFileEnvs(tt.want), err.Error())
		})
	}
}

func TestCheckPlanRefusesForeignWorkspaceKeyOrEnvironment(t *testing.T) {
	ws, err := ReadPlanBinding(readPlanFile(t, workspacePlanFile))
	require.NoError(t, err)
	err = target(t, workspacePlanFileEnv, AWS).CheckPlan(ws)
	require.Error(t, err)
	assert.Equal(t, inPlanFileEnvs("plan file was made for environment <ws> (state iceberg-lakehouse/<ws>/terraform.tfstate, s3, workspace feature) "+
		"but this call applies <ws>/aws (state iceberg-lakehouse/<ws>/terraform.tfstate, workspace default): plan <ws> again"), err.Error())

	gcpBinding := PlanBinding{BackendType: "gcs", StateKey: "iceberg-lakehouse/zzalpha", Workspace: "default", Environment: "zzalpha"}
	assert.NoError(t, target(t, "zzalpha", GCP).CheckPlan(gcpBinding))
	for name, b := range map[string]PlanBinding{
		// The right key, but the variables of another environment (-var).
		"environment variable of another environment": {BackendType: "gcs", StateKey: "iceberg-lakehouse/zzalpha", Workspace: "default", Environment: "zzomega"},
		"no environment variable":                     {BackendType: "gcs", StateKey: "iceberg-lakehouse/zzalpha", Workspace: "default"},
		"a key outside the pipeline's layout":         {BackendType: "gcs", StateKey: "other/zzalpha", Workspace: "default", Environment: "zzalpha"},
	} {
		t.Run(name, func(t *testing.T) {
			err := target(t, "zzalpha", GCP).CheckPlan(b)
			var mismatch *PlanMismatchError
			require.ErrorAs(t, err, &mismatch, name)
			assert.Contains(t, err.Error(), "but this call applies zzalpha/gcp (state iceberg-lakehouse/zzalpha)")
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
