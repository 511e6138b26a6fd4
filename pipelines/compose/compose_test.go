package compose

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dagsterDir = "../../dagster"

var dagsterServices = []string{"dagster-code", "dagster-webserver", "dagster-daemon"}

// environments lists the committed .env.<env> files (not .env.example).
func environments(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dagsterDir, ".env.*"))
	require.NoError(t, err)
	var envs []string
	for _, f := range files {
		if env := strings.TrimPrefix(filepath.Base(f), ".env."); env != "example" {
			envs = append(envs, env)
		}
	}
	if len(envs) == 0 {
		t.Skip("no dagster/.env.<env> files in this checkout")
	}
	sort.Strings(envs)
	return envs
}

// deploySecrets are what a deploy exports in the shell (never in a file).
var deploySecrets = map[string]string{"DAGSTER_POSTGRES_PASSWORD": "injected-at-deploy"}

// loadEnv reads one environment's stack as its README command runs it
// (docker compose --env-file .env.<env> --project-name lakehouse-<env>),
// with the secret a deploy injects.
func loadEnv(t *testing.T, dir, env string) *types.Project {
	t.Helper()
	p, err := Load(t.Context(), dir, ".env."+env, "lakehouse-"+env, deploySecrets)
	require.NoError(t, err)
	return p
}

// projectName is the README's --project-name lakehouse-<env>.
func projectName(env string) string { return "lakehouse-" + env }

func TestEnvironmentsRunSideBySideWithoutCollisions(t *testing.T) {
	envs := environments(t)
	require.NoError(t, SideBySide(t.Context(), dagsterDir, envs, projectName, deploySecrets))
	for _, env := range envs {
		p := loadEnv(t, dagsterDir, env)
		for name, svc := range p.Services {
			assert.Empty(t, svc.ContainerName, "%s/%s: a fixed container_name collides between projects", env, name)
		}
		for key, vol := range p.Volumes {
			assert.False(t, bool(vol.External), "%s: volume %s is external and shared between projects", env, key)
			assert.True(t, strings.HasPrefix(vol.Name, "lakehouse-"+env+"_"), "%s: volume %s is named %q, not scoped to the project", env, key, vol.Name)
		}
	}
}

func TestProdOverlayRemovesSourceMountsAndPublishedPorts(t *testing.T) {
	environments(t)
	p := loadEnv(t, dagsterDir, "prod")
	assertOverlayRules(t, p)
}

// assertOverlayRules are the promises of docker-compose.prod.yaml.
func assertOverlayRules(t *testing.T, p *types.Project) {
	t.Helper()
	for _, name := range dagsterServices {
		svc, ok := p.Services[name]
		require.True(t, ok, "%s has no %s", p.Name, name)
		for _, v := range svc.Volumes {
			assert.NotEqual(t, types.VolumeTypeBind, v.Type, "%s %s still bind-mounts %s", p.Name, name, v.Source)
		}
		assert.Equal(t, "always", svc.Restart, name)
	}
	for name, svc := range p.Services {
		assert.Empty(t, svc.Ports, "%s %s publishes ports; put a reverse proxy in front instead", p.Name, name)
	}
	web := p.Services["dagster-webserver"]
	require.NotNil(t, web.Deploy)
	require.NotNil(t, web.Deploy.Resources.Limits)
	assert.Equal(t, types.NanoCPUs(4), web.Deploy.Resources.Limits.NanoCPUs)
	assert.Equal(t, types.UnitBytes(4<<30), web.Deploy.Resources.Limits.MemoryBytes)
}

func TestDevMountsTheSourceAndPublishesTheUI(t *testing.T) {
	environments(t)
	p := loadEnv(t, dagsterDir, "dev")
	web := p.Services["dagster-webserver"]
	var bind bool
	for _, v := range web.Volumes {
		bind = bind || (v.Type == types.VolumeTypeBind && strings.HasSuffix(v.Source, filepath.Join("dagster", "lakehouse")))
	}
	assert.True(t, bind, "dev runs the live source")
	require.NotEmpty(t, web.Ports)
	assert.Equal(t, "3000", web.Ports[0].Published)
	assert.Contains(t, p.Services, "nessie", "dev runs the local catalog (COMPOSE_PROFILES=local-stack)")
}

func TestProdRefusesToStartWithoutThePostgresSecret(t *testing.T) {
	environments(t)
	_, err := Load(t.Context(), dagsterDir, ".env.prod", "lakehouse-prod", nil)
	var missing *MissingVariablesError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, []string{"DAGSTER_POSTGRES_PASSWORD"}, missing.Names())
	assert.Equal(t, 1, strings.Count(err.Error(), "require"),
		"said once, though five places use it: %s", err)
	assert.Contains(t, err.Error(), "the compose files require DAGSTER_POSTGRES_PASSWORD (set DAGSTER_POSTGRES_PASSWORD (secret) for prod), which neither .env.prod nor the environment sets")
}

// The guide passes variables with --env-file; a missing .env must not matter
// and a stray .env must not be read when --env-file is given.
func TestNoServiceDependsOnADotEnvFile(t *testing.T) {
	environments(t)
	dir := t.TempDir()
	stack, err := filepath.Glob(filepath.Join(dagsterDir, "docker-compose*.yaml"))
	require.NoError(t, err)
	envFiles, err := filepath.Glob(filepath.Join(dagsterDir, ".env.*"))
	require.NoError(t, err)
	for _, f := range append(stack, envFiles...) {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), raw, 0o600))
	}
	p := loadEnv(t, dir, "dev")
	for name, svc := range p.Services {
		assert.Empty(t, svc.EnvFiles, "%s reads an env_file", name)
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("LAKEHOUSE_ACCESS_LEVEL=admin\nDAGSTER_WEBSERVER_PORT=9999\n"), 0o600))
	prod := loadEnv(t, dir, "prod")
	assert.Equal(t, "reader", *prod.Services["dagster-webserver"].Environment["LAKEHOUSE_ACCESS_LEVEL"],
		"--env-file .env.prod wins; a stray .env is ignored")
}

func TestEveryEnvironmentNamesItselfAndItsAccessLevel(t *testing.T) {
	for _, env := range environments(t) {
		p := loadEnv(t, dagsterDir, env)
		code := p.Services["dagster-code"].Environment
		require.NotNil(t, code["LAKEHOUSE_ENVIRONMENT"], env)
		assert.Equal(t, env, *code["LAKEHOUSE_ENVIRONMENT"])
		assert.Contains(t, []string{"admin", "reader"}, *code["LAKEHOUSE_ACCESS_LEVEL"])
		vars := envFileVars(t, filepath.Join(dagsterDir, ".env."+env))
		require.NotNil(t, code["LAKEHOUSE_DEPLOYED"], "%s: the code server must see LAKEHOUSE_DEPLOYED", env)
		assert.Equal(t, vars["LAKEHOUSE_DEPLOYED"], *code["LAKEHOUSE_DEPLOYED"], env)
	}
}

// An environment whose env file is a copy of a local stack's, ports and
// all, is refused, and the refusal says which file, which keys and which
// environment: the README's checklist step to change them.
func TestACopiedEnvFileThatKeepsItsPortsIsRefusedWithTheKeysToChange(t *testing.T) {
	var local string
	for _, env := range environments(t) {
		if len(loadEnv(t, dagsterDir, env).Services["nessie"].Ports) > 0 {
			local = env
		}
	}
	require.NotEmpty(t, local, "no committed environment runs the local stack with published ports")
	source := readFile(t, filepath.Join(dagsterDir, ".env."+local))
	dir := stackCopy(t, map[string]string{
		".env." + local:  source,
		".env.zzfixture": setKey(t, source, "LAKEHOUSE_ENVIRONMENT", "zzfixture"),
	})
	err := SideBySide(t.Context(), dir, []string{local, "zzfixture"}, projectName, deploySecrets)
	require.Error(t, err)
	copied, first := filepath.Join(dir, ".env.zzfixture"), filepath.Join(dir, ".env."+local)
	for service, key := range map[string]string{"dagster-webserver": "DAGSTER_WEBSERVER_PORT", "nessie": "NESSIE_PORT", "seaweedfs": "S3_PORT"} {
		assert.Contains(t, err.Error(), copied+": "+service+" publishes host port ", "names the file and the service")
		assert.Contains(t, err.Error(), "as environment "+local+" does ("+first+" "+service+")", "names the other environment")
		assert.Contains(t, err.Error(), "set "+key+" in this file to a free port", "names the key to change")
	}

	// With those keys changed, the two run side by side.
	moved := setKey(t, setKey(t, setKey(t, setKey(t, source, "LAKEHOUSE_ENVIRONMENT", "zzfixture"),
		"DAGSTER_WEBSERVER_PORT", "3999"), "NESSIE_PORT", "19999"), "S3_PORT", "8999")
	dir = stackCopy(t, map[string]string{".env." + local: source, ".env.zzfixture": moved})
	require.NoError(t, SideBySide(t.Context(), dir, []string{local, "zzfixture"}, projectName, deploySecrets))
}
