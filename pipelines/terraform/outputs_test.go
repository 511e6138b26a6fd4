package terraform

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactOutputsHidesSensitiveValuesOfRealOutput(t *testing.T) {
	raw := readPlan(t, "outputs.json")
	require.Contains(t, string(raw), canary, "terraform output -json prints sensitive values; the fixture must show it")

	red, err := RedactOutputs(raw)
	require.NoError(t, err)
	assert.NotContains(t, string(red), canary)

	type output struct {
		Sensitive bool `json:"sensitive"`
		Value     any  `json:"value"`
	}
	var orig, got map[string]output
	require.NoError(t, json.Unmarshal(raw, &orig))
	require.NoError(t, json.Unmarshal(red, &got))
	assert.Equal(t, Redacted, got["api_token"].Value)
	assert.True(t, got["api_token"].Sensitive)
	// Non-sensitive outputs (the fixture's bucket and environment) are kept
	// as terraform printed them, for Dagster and Soda.
	for _, name := range []string{"data_bucket", "environment"} {
		require.False(t, orig[name].Sensitive, "the fixture's %s is not sensitive", name)
		require.NotEmpty(t, orig[name].Value, name)
		assert.Equal(t, orig[name], got[name], "non-sensitive outputs are kept for Dagster and Soda")
	}
	assert.Equal(t, len(orig), len(got), "no output is dropped")
}

func TestRedactOutputsRejectsWhatIsNotOutputJSON(t *testing.T) {
	for _, in := range []string{"", "[]", "Error: no state"} {
		_, err := RedactOutputs([]byte(in))
		assert.Error(t, err, in)
	}
}
