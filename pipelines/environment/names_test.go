package environment

import (
	"encoding/json"
	"os"
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type nameCase struct {
	Name   string `json:"name"`
	Valid  bool   `json:"valid"`
	Reason string `json:"reason"`
}

// The same table runs in dagster/tests/test_shared_tables.py: Go and
// Python accept exactly the same environment names.
func loadNameCases(t *testing.T) []nameCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/names.json")
	require.NoError(t, err)
	var table struct {
		Cases []nameCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &table))
	require.NotEmpty(t, table.Cases)
	return table.Cases
}

func TestValidNameFollowsTheSharedTable(t *testing.T) {
	for _, tc := range loadNameCases(t) {
		t.Run(tc.Reason, func(t *testing.T) {
			err := ValidName(tc.Name)
			if tc.Valid {
				assert.NoError(t, err, "%q: %s", tc.Name, tc.Reason)
				return
			}
			require.Error(t, err, "%q must be refused: %s", tc.Name, tc.Reason)
			assert.Contains(t, err.Error(), "2-10 characters, lowercase letters and digits, starting with a letter")
		})
	}
}

// A tfvars file is a usable environment exactly when ValidName accepts its name.
func TestCatalogAcceptsExactlyTheValidNames(t *testing.T) {
	for _, tc := range loadNameCases(t) {
		t.Run(tc.Reason, func(t *testing.T) {
			file := path.Join(Dir, tc.Name+".tfvars")
			c, err := NewCatalog(map[string][]byte{file: tfvars(tc.Name).Data})
			usable := err == nil
			if usable {
				_, err = c.Lookup(tc.Name)
				usable = err == nil
			}
			assert.Equal(t, tc.Valid, usable, "%q (%s): catalog error %v", tc.Name, tc.Reason, err)
		})
	}
}
