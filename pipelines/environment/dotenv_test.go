package environment

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dotenvCase is one row of testdata/dotenv_cases.json: an input and either
// the map every reader must produce or the error substring ours must give.
type dotenvCase struct {
	Name  string            `json:"name"`
	Input string            `json:"input"`
	Want  map[string]string `json:"want"`
	Error string            `json:"error"`
}

// The same table runs in dagster/tests/test_shared_tables.py (the Python
// reader) and pipelines/compose (compose-go's reader and the compose loader).
func TestParseDotenvFollowsTheSharedTable(t *testing.T) {
	raw, err := os.ReadFile("testdata/dotenv_cases.json")
	require.NoError(t, err)
	var table struct {
		Cases []dotenvCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &table))
	require.NotEmpty(t, table.Cases)
	for _, tc := range table.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			require.True(t, (tc.Want == nil) != (tc.Error == ""), "a case has either want or error")
			got, err := ParseDotenv("dagster/.env.x", []byte(tc.Input))
			if tc.Error != "" {
				require.Error(t, err, "input %q", tc.Input)
				assert.Contains(t, err.Error(), "dagster/.env.x"+tc.Error)
				return
			}
			require.NoError(t, err, "input %q", tc.Input)
			assert.Equal(t, tc.Want, got)
		})
	}
}

// The Python reader refuses a file that is not UTF-8; so does this one,
// with the line (found by FuzzParseDotenv; JSON cannot carry such bytes,
// so the case is not in the shared table).
func TestParseDotenvRefusesWhatIsNotUTF8(t *testing.T) {
	_, err := ParseDotenv("dagster/.env.x", []byte("A=1\n# caf\xe9\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dagster/.env.x:2: not UTF-8 text")
}
