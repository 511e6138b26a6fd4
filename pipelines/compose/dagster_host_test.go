package compose

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
)

// dagsterProcess starts a Dagster service's command from the venv, in the
// project directory (the image's working directory holds the same code).
func dagsterProcess(t *testing.T, name string, args, env []string) *hosttest.Process {
	t.Helper()
	path, err := hosttest.LookPath(args[0], env)
	require.NoError(t, err)
	cmd := exec.Command(path, args[1:]...)
	cmd.Env = env
	cmd.Dir, err = filepath.Abs(dagsterDir)
	require.NoError(t, err)
	return hosttest.Start(t, name, cmd, 0)
}

var (
	workspaceHost = regexp.MustCompile(`(?m)^\s*host:\s*(\S+)\s*$`)
	workspacePort = regexp.MustCompile(`(?m)^\s*port:\s*(\d+)\s*$`)
)

// hostInstance writes DAGSTER_HOME for the host processes: the repo's
// dagster.yaml (Postgres storage) and workspace.yaml, adapted only in the
// Postgres port and the code server's host and port. It checks first that
// the files point where the stack's services listen.
func hostInstance(t *testing.T, code Service, pgPort, codePort, hostCodePort int) string {
	t.Helper()
	home := t.TempDir()
	instance := readFile(t, filepath.Join(dagsterDir, "dagster.yaml"))
	require.Equal(t, 1, strings.Count(instance, "port: 5432"),
		"dagster.yaml connects to Postgres on 5432, the port of the postgres service")
	instance = strings.Replace(instance, "port: 5432", "port: "+strconv.Itoa(pgPort), 1)
	require.NoError(t, os.WriteFile(filepath.Join(home, "dagster.yaml"), []byte(instance), 0o600))

	ws := readFile(t, filepath.Join(dagsterDir, "workspace.yaml"))
	host, port := workspaceHost.FindStringSubmatch(ws), workspacePort.FindStringSubmatch(ws)
	require.NotNil(t, host, "workspace.yaml names the code server's host")
	require.NotNil(t, port, "workspace.yaml names the code server's port")
	assert.Equal(t, code.Name, host[1], "workspace.yaml: the webserver and daemon reach the code server by its service name")
	assert.Equal(t, strconv.Itoa(codePort), port[1], "workspace.yaml: the port the code server listens on")
	ws = workspaceHost.ReplaceAllString(ws, "      host: 127.0.0.1")
	ws = workspacePort.ReplaceAllString(ws, "      port: "+strconv.Itoa(hostCodePort))
	require.NoError(t, os.WriteFile(filepath.Join(home, "workspace.yaml"), []byte(ws), 0o600))
	return home
}

// The code server, webserver and daemon of the stack, started from
// dagster/.venv with the repo's instance against a real Postgres, each
// healthy by its own committed healthcheck, and not before it runs.
//
// Ports: the commands and healthchecks hard-code 4000 (code server) and
// 3000 (webserver). Other programs on this machine may hold those, so the
// test first checks that each healthcheck asks the port its server listens
// on, then moves both to a free port (rewritePort); a healthcheck that
// asked another port would not be rewritten and would fail.
func TestDagsterHealthchecksPassAgainstRealProcesses(t *testing.T) {
	environments(t)
	venv, err := filepath.Abs(filepath.Join(dagsterDir, ".venv", "bin"))
	require.NoError(t, err)
	_, statErr := os.Stat(filepath.Join(venv, "dagster"))
	hosttest.Need(t, statErr == nil, "dagster/.venv",
		"run dagster/scripts/test.sh (make test-python) first: it creates the venv from requirements-dev.lock")
	hosttest.Need(t, hosttest.PostgresBin() != "", "Postgres", hosttest.InstallPostgres)

	spec := translateEnv(t, dagsterDir, hostCheckEnv)
	code, web, daemon := service(t, spec, "dagster-code"), service(t, spec, "dagster-webserver"), service(t, spec, "dagster-daemon")
	for _, s := range []Service{code, web, daemon} {
		require.NotNil(t, s.Healthcheck, s.Name)
		require.NotEmpty(t, s.Command, s.Name)
	}
	pg := startPostgres(t, spec)

	codePort, err := strconv.Atoi(flag(code.Command, "-p"))
	require.NoError(t, err, "the code server's command sets its port with -p: %q", code.Command)
	hostCodePort := hosttest.FreePort(t)
	home := hostInstance(t, code, pg.Port, codePort, hostCodePort)

	// Adapted: the Postgres host (the postgres service's name in the stack),
	// the instance directory and the PATH (the venv's programs).
	env := map[string]string{}
	for _, v := range code.Environment {
		env[v.Name] = v.Value
	}
	require.Equal(t, "postgres", env["DAGSTER_POSTGRES_HOST"], "the Dagster services reach Postgres by its service name")
	overrides := map[string]string{"DAGSTER_HOME": home, "DAGSTER_POSTGRES_HOST": pg.Host}
	path := venv + ":/usr/bin:/bin"

	// Code server.
	codeEnv := containerEnv(code, path, overrides)
	codeCheck := *code.Healthcheck
	var n int
	codeCheck.Test, n = rewritePort(code.Healthcheck.Test, codePort, hostCodePort)
	require.Equal(t, 1, n, "the code server's healthcheck %q asks the port it listens on (%d)", code.Healthcheck.Test, codePort)
	requireUnhealthy(t, code.Name, &codeCheck, codeEnv)
	codeProc := dagsterProcess(t, code.Name, onHost(t, code.Command, codePort, hostCodePort, home), codeEnv)
	waitHealthy(t, code.Name, &codeCheck, codeEnv, codeProc)

	// Webserver.
	webPort, err := strconv.Atoi(flag(web.Command, "-p"))
	require.NoError(t, err, "the webserver's command sets its port with -p: %q", web.Command)
	assert.Contains(t, web.Ports, webPort, "the webserver's published port is the one it listens on")
	hostWebPort := hosttest.FreePort(t)
	webEnv := containerEnv(web, path, overrides)
	webCheck := *web.Healthcheck
	webCheck.Test, n = rewritePort(web.Healthcheck.Test, webPort, hostWebPort)
	require.Equal(t, 1, n, "the webserver's healthcheck %q asks the port it listens on (%d)", web.Healthcheck.Test, webPort)
	requireUnhealthy(t, web.Name, &webCheck, webEnv)
	webProc := dagsterProcess(t, web.Name, onHost(t, web.Command, webPort, hostWebPort, home), webEnv)
	waitHealthy(t, web.Name, &webCheck, webEnv, webProc)

	// Daemon: a fresh instance has no heartbeat, so the check fails first.
	daemonEnv := containerEnv(daemon, path, overrides)
	requireUnhealthy(t, daemon.Name, daemon.Healthcheck, daemonEnv)
	daemonProc := dagsterProcess(t, daemon.Name, onHost(t, daemon.Command, 0, 0, home), daemonEnv)
	waitHealthy(t, daemon.Name, daemon.Healthcheck, daemonEnv, daemonProc)

	for _, p := range []*hosttest.Process{codeProc, webProc, daemonProc} {
		exited, why := p.Exited()
		assert.False(t, exited, "a server stopped while the others started: %v", why)
	}
}
