package compose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

const (
	baseFile    = "docker-compose.yaml"
	overlayFile = "docker-compose.prod.yaml"
)

func envFileVars(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	vars, err := environment.ParseDotenv(path, raw)
	require.NoError(t, err)
	return vars
}

// stackCopy copies the compose files (not the env files) to a temp dir and
// writes the given env files there.
func stackCopy(t *testing.T, envFiles map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	stack, err := filepath.Glob(filepath.Join(dagsterDir, "docker-compose*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, stack)
	for _, f := range stack {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), raw, 0o600))
	}
	for name, contents := range envFiles {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(contents), 0o600))
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(raw)
}

// setKey replaces the line KEY=... of an env file's contents.
func setKey(t *testing.T, contents, key, value string) string {
	t.Helper()
	lines := strings.Split(contents, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, key+"=") {
			lines[i] = key + "=" + value
			return strings.Join(lines, "\n")
		}
	}
	require.Failf(t, "key missing", "%s is not in the env file", key)
	return ""
}

func TestTheEnvFileChoosesTheComposeFiles(t *testing.T) {
	for _, env := range environments(t) {
		p := loadEnv(t, dagsterDir, env)
		var want []string
		for _, f := range strings.Split(envFileVars(t, filepath.Join(dagsterDir, ".env."+env))["COMPOSE_FILE"], ":") {
			want = append(want, filepath.Join(p.WorkingDir, f))
		}
		assert.Equal(t, want, p.ComposeFiles, "%s: COMPOSE_FILE of .env.%s", env, env)
	}
	abs, err := filepath.Abs(dagsterDir)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(abs, baseFile)}, loadEnv(t, dagsterDir, "dev").ComposeFiles)
	assert.Equal(t, []string{filepath.Join(abs, baseFile), filepath.Join(abs, overlayFile)}, loadEnv(t, dagsterDir, "prod").ComposeFiles)
}

// The README's explicit form (-f base -f overlay) and the env file's
// COMPOSE_FILE give the same project; an explicit -f replaces COMPOSE_FILE.
func TestExplicitFilesAndComposeFileGiveTheSameProject(t *testing.T) {
	environments(t)
	viaEnvFile, err := loadEnv(t, dagsterDir, "prod").MarshalYAML()
	require.NoError(t, err)
	explicit, err := load(t.Context(), dagsterDir, ".env.prod", "lakehouse-prod", []string{baseFile, overlayFile}, deploySecrets)
	require.NoError(t, err)
	viaFlags, err := explicit.MarshalYAML()
	require.NoError(t, err)
	assert.Equal(t, string(viaFlags), string(viaEnvFile))

	baseOnly, err := load(t.Context(), dagsterDir, ".env.prod", "lakehouse-prod", []string{baseFile}, deploySecrets)
	require.NoError(t, err)
	assert.NotEmpty(t, baseOnly.Services["dagster-webserver"].Ports, "-f docker-compose.yaml alone: no overlay, whatever COMPOSE_FILE says")
}

// A new environment is a new env file: the overlay applies to it because
// its COMPOSE_FILE says so, with no name in code.
func TestANewEnvironmentIsOnlyAnEnvFile(t *testing.T) {
	environments(t)
	added := readFile(t, filepath.Join(dagsterDir, ".env.staging"))
	added = setKey(t, added, "LAKEHOUSE_ENVIRONMENT", "zzfixture")
	added = setKey(t, added, "COMPOSE_FILE", baseFile+":"+overlayFile)
	dir := stackCopy(t, map[string]string{".env.zzfixture": added})
	p := loadEnv(t, dir, "zzfixture")
	assertOverlayRules(t, p)
	assert.Equal(t, "zzfixture", *p.Services["dagster-code"].Environment["LAKEHOUSE_ENVIRONMENT"])
	assert.Equal(t, "true", *p.Services["dagster-code"].Environment["LAKEHOUSE_DEPLOYED"])
	for key, vol := range p.Volumes {
		assert.True(t, strings.HasPrefix(vol.Name, "lakehouse-zzfixture_"), "volume %s is %q", key, vol.Name)
	}
}

// Variables exported in the shell override the env file, as for docker
// compose and the Python project (see dagster/.env.example).
func TestExportedVariablesOverrideTheEnvFile(t *testing.T) {
	environments(t)
	extra := map[string]string{"LAKEHOUSE_ACCESS_LEVEL": "admin", "COMPOSE_FILE": baseFile}
	for k, v := range deploySecrets {
		extra[k] = v
	}
	p, err := Load(t.Context(), dagsterDir, ".env.prod", "lakehouse-prod", extra)
	require.NoError(t, err)
	assert.Equal(t, "admin", *p.Services["dagster-code"].Environment["LAKEHOUSE_ACCESS_LEVEL"])
	assert.Len(t, p.ComposeFiles, 1, "an exported COMPOSE_FILE wins over the env file's")
}

type dotenvCase struct {
	Name  string            `json:"name"`
	Input string            `json:"input"`
	Want  map[string]string `json:"want"`
	Error string            `json:"error"`
}

func dotenvCases(t *testing.T) []dotenvCase {
	t.Helper()
	raw, err := os.ReadFile("../environment/testdata/dotenv_cases.json")
	require.NoError(t, err)
	var table struct {
		Cases []dotenvCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &table))
	require.NotEmpty(t, table.Cases)
	return table.Cases
}

// compose-go's own dotenv reader (what docker compose --env-file uses) gives
// the same values as the pipeline's reader for every accepted case.
func TestComposeReadsTheSharedDotenvCasesLikeThePipeline(t *testing.T) {
	for _, tc := range dotenvCases(t) {
		if tc.Error != "" {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			got, err := dotenv.ParseWithLookup(strings.NewReader(tc.Input), func(string) (string, bool) { return "", false })
			require.NoError(t, err, "input %q", tc.Input)
			assert.Equal(t, tc.Want, got, "input %q", tc.Input)
		})
	}
}

// What the pipeline refuses, the compose path refuses too, before compose
// reads the file its own way (e.g. a duplicate key compose would let win).
func TestLoadRefusesEnvFilesThePipelineRefuses(t *testing.T) {
	environments(t)
	dir := stackCopy(t, nil)
	for _, tc := range dotenvCases(t) {
		if tc.Error == "" {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			path := filepath.Join(dir, ".env.x")
			require.NoError(t, os.WriteFile(path, []byte(tc.Input), 0o600))
			_, err := Load(t.Context(), dir, ".env.x", "lakehouse-x", deploySecrets)
			require.Error(t, err, "input %q", tc.Input)
			assert.Contains(t, err.Error(), path+tc.Error)
		})
	}
	t.Run("compose alone would accept a duplicate key", func(t *testing.T) {
		got, err := dotenv.Parse(strings.NewReader("A=1\nA=2\n"))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"A": "2"}, got)
	})
}

func TestLoadOfAMissingEnvFileSaysWhichFile(t *testing.T) {
	_, err := Load(t.Context(), t.TempDir(), ".env.zzfixture", "lakehouse-zzfixture", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), ".env.zzfixture")
	assert.Contains(t, err.Error(), ".env.example")
}

// compose-go v2.16.2 panics on a document tagged !reset; Load answers with
// an error naming the project instead (found by FuzzLoadAndTranslate).
func TestLoadAnswersWhereTheComposeLibraryWouldCrash(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yaml"), []byte("!reset x\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env.zzfixture"), []byte("COMPOSE_FILE=docker-compose.yaml\n"), 0o600))
	_, err := Load(t.Context(), dir, ".env.zzfixture", "lakehouse-zzfixture", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "compose lakehouse-zzfixture (")
	assert.Contains(t, err.Error(), "the compose loader crashed on these files")
}
