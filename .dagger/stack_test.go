package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"

	"dagger/lakehouse/internal/dagger"
	"dagger/lakehouse/internal/enginetest"
)

const canaryPostgresPassword = "canary-postgres-password-41f0"

// stackEngine serves the checkout and returns a stack of env on a stand-in
// Dagster image.
func stackEngine(t testing.TB, root, env string, password bool) (*Stack, *enginetest.Engine, error) {
	t.Helper()
	m, eng := newModule(t)
	serveRepo(t, eng, root)
	var secret *dagger.Secret
	if password {
		secret = dag.SetSecret("pg", canaryPostgresPassword)
	}
	s, err := m.Stack(t.Context(), env, dag.Container().From("registry.example/lakehouse-dagster:test"), dag.Container().From("registry.example/lakehouse-gate:test"), secret, nil, nil)
	return s, eng, err
}

// services evaluates the stack's services and returns the chain of each
// started service by its LAKEHOUSE_STACK-scoped image and name.
func startedServices(t testing.TB, s *Stack, eng *enginetest.Engine) map[string]enginetest.Chain {
	t.Helper()
	b, err := s.builder()
	require.NoError(t, err)
	out := map[string]enginetest.Chain{}
	for _, spec := range b.spec.Services {
		if spec.OneShot {
			continue
		}
		svc, err := b.service(spec.Name)
		require.NoError(t, err)
		id, err := svc.ID(t.Context())
		require.NoError(t, err)
		out[spec.Name] = eng.Resolve(string(id))
	}
	return out
}

// localEnv is the first environment of the checkout's promotion order
// whose env file enables the local stack (COMPOSE_PROFILES=local-stack):
// one ci deploys into its own ledger with no upstream evidence, whatever
// other local environments a user added (a copy of it sorts before it).
func localEnv(t testing.TB) string {
	t.Helper()
	catalog, err := environment.Discover(os.DirFS(repoRoot(t)))
	require.NoError(t, err)
	order, err := catalog.PromotionOrder()
	require.NoError(t, err)
	for _, e := range order {
		if strings.Contains(repoFile(t, "dagster/.env."+e.Name()), "\nCOMPOSE_PROFILES=local-stack") {
			return e.Name()
		}
	}
	t.Fatal("no environment with COMPOSE_PROFILES=local-stack")
	return ""
}

func TestStackStartsEveryComposeServiceWithItsImageCommandPortsAndHealthcheck(t *testing.T) {
	env := localEnv(t)
	s, eng, err := stackEngine(t, repoRoot(t), env, false)
	require.NoError(t, err)
	got := startedServices(t, s, eng)
	compose := repoFile(t, "dagster/docker-compose.yaml")
	for name, c := range got {
		assert.Contains(t, compose, "\n  "+name+":", "service %s is in the compose file", name)
		assert.NotEmpty(t, c.Steps("withDockerHealthcheck"), "%s keeps its compose healthcheck", name)
		assert.Equal(t, s.Project, c.Env()["LAKEHOUSE_STACK"])
	}
	spec, err := s.spec()
	require.NoError(t, err)
	for _, svc := range spec.Services {
		if c, ok := got[svc.Name]; ok {
			assert.Equal(t, svc.Ports, c.ExposedPorts(), "%s exposes the ports compose declares", svc.Name)
		}
	}
	for _, name := range []string{"postgres", "dagster-code", "nessie", "seaweedfs", "dagster-webserver"} {
		assert.NotEmpty(t, got[name].ExposedPorts(), "%s is reachable on a declared port", name)
	}
	for _, name := range []string{"postgres", "seaweedfs", "nessie", "dagster-code", "dagster-webserver", "dagster-daemon"} {
		require.Contains(t, got, name)
	}
	assert.Equal(t, "registry.example/lakehouse-dagster:test", got["dagster-code"].From(), "the Dagster services run the image from build")
	assert.Contains(t, got["postgres"].From(), "postgres:17.11-alpine@sha256:")
	assert.Contains(t, got["nessie"].ExposedPorts(), 19120)

	pg := got["postgres"].Steps("withDockerHealthcheck")[0]
	assert.Equal(t, true, pg.Args["shell"])
	assert.Contains(t, strs(pg.Args["args"])[0], "pg_isready")

	// depends_on: service_healthy → bound; the bucket bootstrap runs to
	// completion before Nessie starts.
	assert.Contains(t, got["nessie"].ServiceBindings(), "postgres")
	assert.Contains(t, got["nessie"].FileMounts()["/run/lakehouse/s3-bootstrap.done"], "s3.bucket.create")
	assert.Contains(t, got["dagster-webserver"].ServiceBindings(), "dagster-code")
	assert.Contains(t, got["dagster-code"].ServiceBindings(), "seaweedfs", "the code server writes to the object store its environment names")
}

func TestStackSecretsArriveOnlyAsSecrets(t *testing.T) {
	env := localEnv(t)
	s, eng, err := stackEngine(t, repoRoot(t), env, true)
	require.NoError(t, err)
	got := startedServices(t, s, eng)
	assert.Contains(t, got["postgres"].SecretEnv()["POSTGRES_PASSWORD"], "setSecret(name:pg")
	assert.NotContains(t, got["postgres"].Env(), "POSTGRES_PASSWORD")
	assert.Contains(t, got["dagster-code"].SecretEnv(), "DAGSTER_POSTGRES_PASSWORD")
	assertNoLeak(t, eng, canaryPostgresPassword)
}

// The production overlay requires the Postgres password: the stack of an
// environment whose COMPOSE_FILE adds it is refused without one.
func TestAnEnvironmentWhoseComposeFilesRequireThePasswordNeedsTheSecret(t *testing.T) {
	var strict string
	for _, env := range repoEnvironments(t, repoRoot(t)) {
		for _, line := range strings.Split(repoFile(t, "dagster/.env."+env), "\n") {
			if strings.HasPrefix(line, "COMPOSE_FILE=") && strings.Contains(line, "docker-compose.prod.yaml") {
				strict = env
			}
		}
	}
	require.NotEmpty(t, strict)
	_, _, err := stackEngine(t, repoRoot(t), strict, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DAGSTER_POSTGRES_PASSWORD")
	s, eng, err := stackEngine(t, repoRoot(t), strict, true)
	require.NoError(t, err)
	for name, c := range startedServices(t, s, eng) {
		if c.From() == "registry.example/lakehouse-dagster:test" {
			for path := range c.Directories() {
				assert.NotEqual(t, "/opt/dagster/app/lakehouse", path, "%s: no source mount in the production overlay", name)
			}
		}
	}
}

func TestTwoEnvironmentsStacksShareNoVolumeHostOrPort(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(root, "environments"), os.DirFS(filepath.Join(repoRoot(t), "environments"))))
	// The compose project's top-level files only (not the virtualenvs).
	require.NoError(t, os.MkdirAll(filepath.Join(root, "dagster"), 0o755))
	top, err := os.ReadDir(filepath.Join(repoRoot(t), "dagster"))
	require.NoError(t, err)
	for _, f := range top {
		if !f.IsDir() {
			require.NoError(t, os.WriteFile(filepath.Join(root, "dagster", f.Name()), []byte(repoFile(t, "dagster/"+f.Name())), 0o644))
		}
	}
	env := localEnv(t)
	// A second local environment: a copy of the first with its own ports.
	dotenv := repoFile(t, "dagster/.env."+env)
	dotenv = strings.ReplaceAll(dotenv, "LAKEHOUSE_ENVIRONMENT="+env, "LAKEHOUSE_ENVIRONMENT=zzfixture")
	for _, kv := range [][2]string{{"DAGSTER_WEBSERVER_PORT=", "3009"}, {"NESSIE_PORT=", "19129"}, {"S3_PORT=", "8339"}} {
		lines := strings.Split(dotenv, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, kv[0]) {
				lines[i] = kv[0] + kv[1]
			}
		}
		dotenv = strings.Join(lines, "\n")
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "dagster", ".env.zzfixture"), []byte(dotenv), 0o644))
	tfvars := strings.Replace(repoFile(t, "environments/"+env+".tfvars"), `"`+env+`"`, `"zzfixture"`, 1)
	require.NoError(t, os.WriteFile(filepath.Join(root, "environments", "zzfixture.tfvars"), []byte(tfvars), 0o644))

	volumes := map[string]map[string]bool{}
	ports := map[string]map[int]bool{}
	for _, e := range []string{env, "zzfixture"} {
		s, eng, err := stackEngine(t, root, e, false)
		require.NoError(t, err)
		volumes[e], ports[e] = map[string]bool{}, map[int]bool{}
		for _, c := range startedServices(t, s, eng) {
			for _, cache := range c.Caches() {
				volumes[e][cache.Key] = true
			}
			assert.Equal(t, s.Project, c.Env()["LAKEHOUSE_STACK"], "services of two stacks never share a definition (one instance)")
		}
		spec, err := s.spec()
		require.NoError(t, err)
		for _, svc := range spec.Services {
			for _, p := range svc.Published {
				ports[e][p.Host] = true
			}
		}
	}
	for v := range volumes[env] {
		assert.False(t, volumes["zzfixture"][v], "cache volume %s is shared", v)
	}
	for p := range ports[env] {
		assert.False(t, ports["zzfixture"][p], "host port %d is published by both", p)
	}
	assert.NotEmpty(t, volumes[env])
	assert.NotEmpty(t, ports[env])
}

func TestServiceImagesAreMirroredOrOverridden(t *testing.T) {
	m, eng := newModule(t)
	serveRepo(t, eng, repoRoot(t))
	mirrored, err := New(dag.Directory(), "", "", "", "", "", "registry.corp.example/hub")
	require.NoError(t, err)
	_ = m
	s, err := mirrored.Stack(t.Context(), localEnv(t), dag.Container().From("x:1"), dag.Container().From("g:1"), nil, []string{"seaweedfs=127.0.0.1:5000/probe/s3:1"}, nil)
	require.NoError(t, err)
	spec, err := s.spec()
	require.NoError(t, err)
	for _, svc := range spec.Services {
		switch {
		case svc.Name == "seaweedfs":
			assert.Equal(t, "127.0.0.1:5000/probe/s3:1", svc.Image)
		case !svc.ProjectImage:
			assert.True(t, strings.HasPrefix(svc.Image, "registry.corp.example/hub/"), svc.Image)
		}
	}
	_, err = mirrored.Stack(t.Context(), localEnv(t), dag.Container().From("x:1"), dag.Container().From("g:1"), nil, []string{"minio=minio:latest"}, nil)
	require.Error(t, err)
}

// A service that never turns healthy fails services with its name, the
// engine's reason and the end of the service's own output.
func TestAServiceThatNeverTurnsHealthyNamesItselfAndShowsItsLastLogLines(t *testing.T) {
	s, eng, err := stackEngine(t, repoRoot(t), localEnv(t), false)
	require.NoError(t, err)
	eng.FailField("start", "health check errored: exit code: 1", func(c enginetest.Chain) bool {
		return strings.Contains(c.String(), "pg_isready")
	})
	eng.Answer("entrypoint", []any{"docker-entrypoint.sh"})
	eng.Answer("defaultArgs", []any{"postgres"})
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 4 && strings.Contains(last[2], "timeout 20") && last[4] == "docker-entrypoint.sh" {
			return "FATAL:  data directory \"/var/lib/postgresql/data\" has invalid permissions\n", true
		}
		return nil, false
	})
	_, err = s.Services(t.Context())
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "service postgres did not start or never turned healthy: health check errored")
	assert.Contains(t, msg, "its last log lines:\nFATAL:  data directory")
}

// A smoke run that fails before printing to stdout (on the engine rig:
// `exec: "sh": executable file not found in $PATH`) still says why: the
// log is stdout then stderr, and the run needs no shell in the image.
func TestAFailedSmokeRunShowsWhatItPrintedOnStderr(t *testing.T) {
	s, eng, err := stackEngine(t, repoRoot(t), localEnv(t), false)
	require.NoError(t, err)
	eng.FailExec(1, "", `exec: "python": executable file not found in $PATH`, "python", "-m", "lakehouse.smoke")
	run, err := s.Materialize(t.Context(), "2026-11-20")
	require.NoError(t, err)
	assert.Equal(t, "fail", run.Status)
	assert.Equal(t, 1, run.ExitCode)
	assert.Equal(t, `exec: "python": executable file not found in $PATH`, run.Log)
	smoke := ran(t, eng, "python", "-m", "lakehouse.smoke")
	assert.Equal(t, []string{"python", "-m", "lakehouse.smoke", "--partition", "2026-11-20"}, smoke.LastExec(), "no sh -c around it")
}

// Every step of a run builds the stack again (materialize, the gate, the
// local deploy): a service that waits for a one-shot job must be the same
// definition each time, or the engine starts a second one. On the engine
// rig a fresh job id per builder started the catalog again for the gate,
// without the tables materialize had just written.
var fakeIDs = regexp.MustCompile(`fake-id-\d+`)

func TestEveryBuilderOfAStackStartsTheSameServices(t *testing.T) {
	s, eng, err := stackEngine(t, repoRoot(t), localEnv(t), false)
	require.NoError(t, err)
	require.NotEmpty(t, s.RunID)
	described := func() map[string]string {
		out := map[string]string{}
		for name, c := range startedServices(t, s, eng) {
			for path, src := range c.FileMounts() {
				if strings.HasPrefix(path, "/run/lakehouse/") {
					// The fake engine numbers every ID it hands out.
					out[name+" "+path] = fakeIDs.ReplaceAllString(src, "fake-id")
				}
			}
		}
		return out
	}
	first, second := described(), described()
	require.NotEmpty(t, first, "some service of the local stack waits for a one-shot job")
	assert.Equal(t, first, second)
	for key, src := range first {
		assert.Contains(t, src, s.RunID, "%s: the job runs once per stack, under the stack's run id", key)
	}
}
