package terraform

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/s3test"
)

// canary is set as a sensitive variable in the fixture plans; it must never
// appear in anything rendered from a Summary.
const canary = "CANARY-7f3c91-sensitive-value-must-not-render"

// fixturePlans are the plan JSON files under testdata/plans, produced by
// TestHostPlanJSONTestdataIsCurrent from real terraform runs.
var fixturePlans = []string{"create.json", "no-changes.json", "destroy-protected.json"}

// TestHostPlanJSONTestdataIsCurrent produces the three plans of the fixture
// (and the outputs after the first apply) with real terraform and checks that the committed testdata/plans/*.json
// summarise the same way. Set UPDATE_TESTDATA=1 to rewrite them.
func TestHostPlanJSONTestdataIsCurrent(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	c := newCheckout(t, s3, "dev", nil)
	c.setVars(`api_token = "` + canary + `"`)
	c.init()
	plans := map[string][]byte{}

	require.True(t, c.planSaved("create.tfplan"))
	plans["create.json"] = c.showJSON("create.tfplan")
	c.must(c.target.Apply("create.tfplan"))
	plans["outputs.json"] = []byte(c.must(c.target.OutputJSON()).stdout)

	require.False(t, c.planSaved("none.tfplan"))
	plans["no-changes.json"] = c.showJSON("none.tfplan")

	c.setVars(`data_store_enabled = false`, `revision = "2"`, `api_token = "`+canary+`-rotated"`)
	require.True(t, c.planSaved("destroy.tfplan"))
	plans["destroy-protected.json"] = c.showJSON("destroy.tfplan")

	for _, name := range append(fixturePlans, "outputs.json") {
		path := filepath.Join("testdata", "plans", name)
		if os.Getenv("UPDATE_TESTDATA") != "" {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, plans[name], "", "  "))
			require.NoError(t, os.WriteFile(path, append(pretty.Bytes(), '\n'), 0o644))
			continue
		}
		committed, err := os.ReadFile(path)
		require.NoError(t, err, "run with UPDATE_TESTDATA=1 to create it")
		read := func(b []byte) (any, error) { return Summarize(b) }
		if name == "outputs.json" {
			read = func(b []byte) (any, error) { r, err := RedactOutputs(b); return string(r), err }
		}
		want, err := read(committed)
		require.NoError(t, err)
		got, err := read(plans[name])
		require.NoError(t, err)
		assert.Equal(t, want, got, "%s is out of date: run with UPDATE_TESTDATA=1", path)
	}
}

func TestHostValidateArgvRunsWithoutBackendOrCredentials(t *testing.T) {
	c := newCheckout(t, nil, "dev", nil)
	c.must(InitWithoutBackend())
	r := c.must(Validate())
	assert.Contains(t, r.stdout, "Success! The configuration is valid.")
}
