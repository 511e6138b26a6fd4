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

	var got map[string]struct {
		Sensitive bool `json:"sensitive"`
		Value     any  `json:"value"`
	}
	require.NoError(t, json.Unmarshal(red, &got))
	assert.Equal(t, Redacted, got["api_token"].Value)
	assert.True(t, got["api_token"].Sensitive)
	assert.Equal(t, "lakehouse-dev-lakehouse", got["data_bucket"].Value, "non-sensitive outputs are kept for Dagster and Soda")
	assert.Equal(t, "dev", got["environment"].Value)
}

func TestRedactOutputsRejectsWhatIsNotOutputJSON(t *testing.T) {
	for _, in := range []string{"", "[]", "Error: no state"} {
		_, err := RedactOutputs([]byte(in))
		assert.Error(t, err, in)
	}
}
