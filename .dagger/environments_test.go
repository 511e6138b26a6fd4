package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// repoWithExtraEnvironments copies the Terraform roots and environments of
// the checkout into a temporary repository and adds files to environments/.
func repoWithExtraEnvironments(t testing.TB, extra map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"aws", "gcp", "environments"} {
		require.NoError(t, os.CopyFS(filepath.Join(root, dir), os.DirFS(filepath.Join(repoRoot(t), dir))))
	}
	for name, contents := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(root, "environments", name), []byte(contents), 0o644))
	}
	return root
}

// copyEnvironment is the checkout's first tfvars file renamed to env.
func copyEnvironment(t testing.TB, env string) string {
	t.Helper()
	from := repoEnvironments(t, repoRoot(t))[0]
	src := repoFile(t, "environments/"+from+".tfvars")
	out := regexp.MustCompile(`(?m)^(\s*environment\s*=\s*)"[a-z0-9]+"`).ReplaceAllString(src, `${1}"`+env+`"`)
	require.NotEqual(t, src, out, "the tfvars file sets environment")
	return out
}

type listing struct {
	Names   []string `json:"names"`
	Invalid []struct {
		File  string `json:"file"`
		Error string `json:"error"`
	} `json:"invalid"`
}

func TestEnvironmentsListsAnAddedEnvironmentForTheWorkflowMatrix(t *testing.T) {
	root := repoWithExtraEnvironments(t, map[string]string{"zzfixture.tfvars": copyEnvironment(t, "zzfixture")})
	m, eng := newModule(t)
	serveRepo(t, eng, root)
	out, err := m.Environments(t.Context())
	require.NoError(t, err)
	var got listing
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Contains(t, got.Names, "zzfixture")
	assert.ElementsMatch(t, append(repoEnvironments(t, repoRoot(t)), "zzfixture"), got.Names)
	assert.Empty(t, got.Invalid)
}

// A malformed tfvars file is reported and fails checks, but plan of the
// other environments goes on.
func TestABrokenTfvarsFileDoesNotBlockTheOtherEnvironments(t *testing.T) {
	root := repoWithExtraEnvironments(t, map[string]string{"zzbroken.tfvars": "project_name = \"lakehouse\"\nenvironment = \n"})
	healthy := repoEnvironments(t, repoRoot(t))[0]

	m, eng := tfEngineAt(t, root, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	out, err := m.Environments(t.Context())
	require.NoError(t, err)
	var got listing
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.NotContains(t, got.Names, "zzbroken")
	require.Len(t, got.Invalid, 1)
	assert.Equal(t, "environments/zzbroken.tfvars", got.Invalid[0].File)
	assert.Contains(t, got.Invalid[0].Error, "environments/zzbroken.tfvars:2")

	p, err := withAWS(m).Plan(t.Context(), healthy, "aws", nil)
	require.NoError(t, err, "a broken file of another environment must not block this plan")
	assert.Equal(t, healthy, p.Env)
	planned(t, eng)

	_, err = withAWS(m).Plan(t.Context(), "zzbroken", "aws", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environments/zzbroken.tfvars:2")
}

// Workflows that run once per environment take the list from the module's
// environments function, never from a list written in YAML.
func TestWorkflowsBuildTheirEnvironmentMatrixFromTheModule(t *testing.T) {
	dir := filepath.Join(repoRoot(t), ".github", "workflows")
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	require.NoError(t, err)
	perEnv := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var wf struct {
			Jobs map[string]struct {
				Strategy struct {
					Matrix map[string]any `yaml:"matrix"`
				} `yaml:"strategy"`
				Needs any `yaml:"needs"`
			} `yaml:"jobs"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &wf), f)
		inFile := 0
		for name, job := range wf.Jobs {
			if len(job.Strategy.Matrix) == 0 {
				continue
			}
			inFile++
			_, literal := job.Strategy.Matrix["env"]
			assert.False(t, literal, "%s job %s: the matrix lists environments itself; use include: fromJSON(needs.environments.outputs.catalog).targets", filepath.Base(f), name)
			expr, isString := job.Strategy.Matrix["include"].(string)
			require.True(t, isString, "%s job %s: the matrix is a literal list; build it with include: fromJSON(needs.environments.outputs.catalog).targets", filepath.Base(f), name)
			assert.Regexp(t, `^\$\{\{\s*fromJSON\(needs\.environments\.outputs\.catalog\)\.(targets|deploy_targets)\s*\}\}$`, expr, "%s job %s", filepath.Base(f), name)
		}
		perEnv += inFile
		if inFile > 0 {
			assert.Contains(t, string(raw), "args: environments", "%s calls the module's environments function", filepath.Base(f))
		}
	}
	require.NotZero(t, perEnv, "no per-environment workflow found")
}
