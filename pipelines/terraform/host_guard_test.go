package terraform

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guardScenarios are the directories under testdata/guard: a prior state
// (state.json) and a configuration that changes it (main.tf), planned with
// the shared provider.tf. Their plans are testdata/plans/aws-<name>.json.
//
// The first three states are crafted. The others were made by a real
// apply: applied.tf, with a provider block whose endpoints point every
// service at moto (`moto_server -H 127.0.0.1 -p PORT`, moto as pinned in
// dagster/requirements-dev.lock), applied with `terraform apply`, its
// terraform.tfstate copied to state.json. To change one, edit applied.tf
// and main.tf, re-apply to a fresh moto, copy the state, then run this
// test with UPDATE_TESTDATA=1.
var guardScenarios = []string{"delete", "secrets", "lifecycle", "weaken-storage", "weaken-keys", "weaken-stores", "open-network"}

// TestHostGuardPlanJSONTestdataIsCurrent plans each scenario with real
// terraform and the real aws provider (from the local mirror; offline:
// dummy credentials, -refresh=false, local state) and checks that the
// committed plan JSON summarises the same way. Set UPDATE_TESTDATA=1 to
// rewrite it.
func TestHostGuardPlanJSONTestdataIsCurrent(t *testing.T) {
	mirror := providerMirror(t)
	c := &checkout{t: t, root: t.TempDir(), bin: terraformBinary(t), target: target(t, "dev", AWS), cliConfig: mirror}
	dir := filepath.Join(c.root, c.target.Workdir())
	require.NoError(t, os.MkdirAll(dir, 0o755))
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, to), b, 0o644))
	}
	copyFile(filepath.Join("testdata", "guard", "provider.tf"), "provider.tf")
	copyFile(filepath.Join(repoRoot, AWS.LockFile()), LockFile)
	c.must([]string{"terraform", "init", "-input=false", "-no-color", "-lockfile=readonly"})

	for _, name := range guardScenarios {
		t.Run(name, func(t *testing.T) {
			copyFile(filepath.Join("testdata", "guard", name, "main.tf"), "main.tf")
			copyFile(filepath.Join("testdata", "guard", name, "state.json"), "terraform.tfstate")
			c.must([]string{"terraform", "plan", "-refresh=false", "-input=false", "-no-color", "-lock=false", "-out=guard.tfplan"})
			fresh := c.showJSON("guard.tfplan")
			require.NotContains(t, string(fresh), "fixture-secret", "the plan JSON holds the test's AWS secret key")

			path := filepath.Join("testdata", "plans", "aws-"+name+".json")
			if os.Getenv("UPDATE_TESTDATA") != "" {
				var pretty bytes.Buffer
				require.NoError(t, json.Indent(&pretty, fresh, "", "  "))
				require.NoError(t, os.WriteFile(path, append(pretty.Bytes(), '\n'), 0o644))
				return
			}
			committed, err := os.ReadFile(path)
			require.NoError(t, err, "run with UPDATE_TESTDATA=1 to create it")
			want, err := Summarize(committed)
			require.NoError(t, err)
			got, err := Summarize(fresh)
			require.NoError(t, err)
			assert.Equal(t, want, got, "%s is out of date: run with UPDATE_TESTDATA=1", path)
		})
	}
}
