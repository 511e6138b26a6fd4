package compose

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// envsWhere are the committed environments whose env file satisfies keep.
// It fails when none does: a property no environment has is not tested.
func envsWhere(t *testing.T, what string, keep func(vars map[string]string) bool) []string {
	t.Helper()
	var out []string
	for _, env := range environments(t) {
		if keep(envFileVars(t, filepath.Join(dagsterDir, ".env."+env))) {
			out = append(out, env)
		}
	}
	require.NotEmpty(t, out, "no committed dagster/.env.<env> %s", what)
	return out
}

// overlayFile is the committed compose file besides the base one: the
// overlay an env file applies through COMPOSE_FILE.
func overlayFile(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dagsterDir, "docker-compose.*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 1, "one overlay beside %s", baseFile)
	return filepath.Base(files[0])
}

func appliesOverlay(t *testing.T, vars map[string]string) bool {
	return slices.Contains(strings.Split(vars["COMPOSE_FILE"], ":"), overlayFile(t))
}

// overlayEnvs are the environments whose COMPOSE_FILE applies the overlay.
func overlayEnvs(t *testing.T) []string {
	t.Helper()
	return envsWhere(t, "applies the overlay", func(v map[string]string) bool { return appliesOverlay(t, v) })
}

// baseOnlyEnvs are the environments that run the base compose file alone.
func baseOnlyEnvs(t *testing.T) []string {
	t.Helper()
	return envsWhere(t, "runs the base compose file alone", func(v map[string]string) bool { return !appliesOverlay(t, v) })
}

func runsLocalStack(vars map[string]string) bool {
	return slices.Contains(strings.Split(vars["COMPOSE_PROFILES"], ","), "local-stack")
}

// localStackEnvs are the environments with COMPOSE_PROFILES=local-stack.
func localStackEnvs(t *testing.T) []string {
	t.Helper()
	return envsWhere(t, "runs the local stack (COMPOSE_PROFILES=local-stack)", runsLocalStack)
}

// otherAccessLevel is the access level an env file does not set.
func otherAccessLevel(level string) string {
	if level == "reader" {
		return "admin"
	}
	return "reader"
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

func TestTheOverlayRemovesSourceMountsAndPublishedPorts(t *testing.T) {
	for _, env := range overlayEnvs(t) {
		assertOverlayRules(t, loadEnv(t, dagsterDir, env))
	}
}

// assertOverlayRules are the promises of the overlay compose file.
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

func TestTheBaseStackMountsTheSourceAndPublishesTheUI(t *testing.T) {
	for _, env := range baseOnlyEnvs(t) {
		p := loadEnv(t, dagsterDir, env)
		web := p.Services["dagster-webserver"]
		var bind bool
		for _, v := range web.Volumes {
			bind = bind || (v.Type == types.VolumeTypeBind && strings.HasSuffix(v.Source, filepath.Join("dagster", "lakehouse")))
		}
		assert.True(t, bind, "%s runs the live source", env)
		require.NotEmpty(t, web.Ports, env)
		assert.Equal(t, envFileVars(t, filepath.Join(dagsterDir, ".env."+env))["DAGSTER_WEBSERVER_PORT"], web.Ports[0].Published,
			"%s publishes the UI on its DAGSTER_WEBSERVER_PORT", env)
	}
}

func TestOnlyLocalStackEnvironmentsRunTheLocalCatalog(t *testing.T) {
	localStackEnvs(t)
	for _, env := range environments(t) {
		local := runsLocalStack(envFileVars(t, filepath.Join(dagsterDir, ".env."+env)))
		_, nessie := loadEnv(t, dagsterDir, env).Services["nessie"]
		assert.Equal(t, local, nessie, "%s: the local catalog runs exactly when COMPOSE_PROFILES=local-stack", env)
	}
}

// requiredReason is the reason the overlay gives for ${key:?reason}.
func requiredReason(t *testing.T, key string) string {
	t.Helper()
	m := regexp.MustCompile(`\$\{` + key + `:\?([^}]*)\}`).FindStringSubmatch(readFile(t, filepath.Join(dagsterDir, overlayFile(t))))
	require.NotNil(t, m, "%s does not require %s", overlayFile(t), key)
	return m[1]
}

func TestOverlayEnvironmentsRefuseToStartWithoutThePostgresSecret(t *testing.T) {
	reason := requiredReason(t, "DAGSTER_POSTGRES_PASSWORD")
	for _, env := range overlayEnvs(t) {
		_, err := Load(t.Context(), dagsterDir, ".env."+env, projectName(env), nil)
		var missing *MissingVariablesError
		require.ErrorAs(t, err, &missing, env)
		assert.Equal(t, []string{"DAGSTER_POSTGRES_PASSWORD"}, missing.Names())
		assert.Equal(t, 1, strings.Count(err.Error(), "require"),
			"said once, though five places use it: %s", err)
		assert.Contains(t, err.Error(), "the compose files require DAGSTER_POSTGRES_PASSWORD ("+reason+"), which neither .env."+env+" nor the environment sets")
	}
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
	for _, env := range environments(t) {
		for name, svc := range loadEnv(t, dir, env).Services {
			assert.Empty(t, svc.EnvFiles, "%s %s reads an env_file", env, name)
		}
	}

	for _, env := range environments(t) {
		level := envFileVars(t, filepath.Join(dir, ".env."+env))["LAKEHOUSE_ACCESS_LEVEL"]
		stray := "LAKEHOUSE_ACCESS_LEVEL=" + otherAccessLevel(level) + "\nDAGSTER_WEBSERVER_PORT=9999\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte(stray), 0o600))
		p := loadEnv(t, dir, env)
		assert.Equal(t, level, *p.Services["dagster-webserver"].Environment["LAKEHOUSE_ACCESS_LEVEL"],
			"--env-file .env.%s wins; a stray .env is ignored", env)
	}
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
