package environment

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepositoryEnvironmentsAndRuntimeFilesAreValid checks the repository's
// own environments/*.tfvars and, where present, dagster/.env.<env>.
func TestRepositoryEnvironmentsAndRuntimeFilesAreValid(t *testing.T) {
	repo := os.DirFS("../..")
	if _, err := fs.Stat(repo, Dir); err != nil {
		t.Skip("no environments/ in this checkout yet")
	}
	cat, err := Discover(repo)
	require.NoError(t, err)
	require.NoError(t, cat.Err(), "every environments/*.tfvars must be valid")
	for _, env := range cat.Envs() {
		rt, err := LoadRuntime(repo, env)
		if errors.Is(err, fs.ErrNotExist) {
			t.Logf("%s: no %s yet", env, env.EnvFile())
			continue
		}
		if assert.NoError(t, err) {
			assert.Equal(t, env, rt.Env)
		}
	}
}
