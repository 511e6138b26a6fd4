package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
)

// The committed healthchecks, run against real processes on this machine,
// so a wrong command, flag or port fails here and not in an engine. The
// services run the translated spec of the local stack (its command,
// environment and healthcheck); only what ties them to the container
// network is adapted, and each adaptation is named where it is made.

// hostCheckEnv is the stack whose services the host tests run.
const hostCheckEnv = "dev"

// healthBudget is how long Docker lets a service become healthy (start
// period plus retries × interval), capped so the test stays short.
func healthBudget(hc *Healthcheck) time.Duration {
	budget := hc.StartPeriod + time.Duration(max(hc.Retries, 3))*max(hc.Interval, 30*time.Second)
	return min(budget, 90*time.Second)
}

// containerEnv is a service's environment as the container sees it:
// its plain variables, its secrets (any value: Postgres trusts local
// connections here), then overrides, on a PATH of path.
func containerEnv(s Service, path string, overrides map[string]string) []string {
	vars := map[string]string{"PATH": path, "HOME": os.TempDir()}
	for _, v := range s.Environment {
		vars[v.Name] = v.Value
	}
	for _, v := range s.SecretEnvironment {
		vars[v.Name] = "host-test-secret"
	}
	for k, v := range overrides {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// check runs a healthcheck once, as Docker does: CMD execs the argv,
// CMD-SHELL runs the line with /bin/sh -c, within the check's timeout.
func check(ctx context.Context, hc *Healthcheck, env []string) (string, error) {
	timeout := hc.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second // Docker's default
	}
	if hc.Shell {
		return hosttest.Run(ctx, timeout, env, "/bin/sh", "-c", hc.Test[0])
	}
	return hosttest.Run(ctx, timeout, env, hc.Test[0], hc.Test[1:]...)
}

// waitHealthy runs the healthcheck until it passes, within the budget the
// compose file grants; it fails with the check's output and the server's
// last log lines.
func waitHealthy(t *testing.T, name string, hc *Healthcheck, env []string, server *hosttest.Process) {
	t.Helper()
	deadline := time.Now().Add(healthBudget(hc))
	for {
		out, err := check(t.Context(), hc, env)
		if err == nil {
			return
		}
		exited, why := server.Exited()
		if exited || time.Now().After(deadline) {
			require.Failf(t, "never healthy", "%s: healthcheck %q still fails (server exited: %v %v): %v\n%s\n--- server log:\n%s",
				name, hc.Test, exited, why, err, out, server.Tail(30))
		}
		time.Sleep(time.Second)
	}
}

// requireUnhealthy proves a check can fail: nothing answers it yet.
func requireUnhealthy(t *testing.T, name string, hc *Healthcheck, env []string) {
	t.Helper()
	out, err := check(t.Context(), hc, env)
	require.Error(t, err, "%s: the healthcheck passes before the server runs, so it proves nothing:\n%s", name, out)
}

// startPostgres runs the stack's postgres service on the host: a fresh
// cluster with the service's POSTGRES_USER and POSTGRES_DB and the init
// scripts of its /docker-entrypoint-initdb.d mount, as the image does.
func startPostgres(t *testing.T, spec *Spec) *hosttest.Postgres {
	t.Helper()
	svc := service(t, spec, "postgres")
	vars := map[string]string{}
	for _, v := range svc.Environment {
		vars[v.Name] = v.Value
	}
	require.NotEmpty(t, vars["POSTGRES_USER"], "the postgres service sets POSTGRES_USER")
	require.NotEmpty(t, vars["POSTGRES_DB"], "the postgres service sets POSTGRES_DB")
	pg := hosttest.StartPostgres(t, vars["POSTGRES_USER"])
	_, err := pg.SQL(t.Context(), "postgres", fmt.Sprintf(`CREATE DATABASE %q`, vars["POSTGRES_DB"]))
	require.NoError(t, err)
	var scripts int
	for _, m := range svc.Mounts {
		if m.Kind != Bind || m.Target != "/docker-entrypoint-initdb.d" {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dagsterDir, m.Source, "*.sql"))
		require.NoError(t, err)
		for _, f := range files {
			out, err := pg.SQLFile(t.Context(), vars["POSTGRES_DB"], f)
			require.NoError(t, err, "init script %s:\n%s", f, out)
			scripts++
		}
	}
	require.NotZero(t, scripts, "the postgres service mounts its init scripts (dagster/docker/postgres)")
	return pg
}

func TestPostgresHealthcheckPassesAgainstARealServer(t *testing.T) {
	environments(t)
	hosttest.Need(t, hosttest.PostgresBin() != "", "Postgres", hosttest.InstallPostgres)
	spec := translateEnv(t, dagsterDir, hostCheckEnv)
	svc := service(t, spec, "postgres")
	require.NotNil(t, svc.Healthcheck)

	// Adapted: pg_isready reads the server's host and port from PGHOST and
	// PGPORT (in the container: the local socket and 5432); nothing in the
	// command changes.
	port := hosttest.FreePort(t)
	env := func(port int) []string {
		return containerEnv(svc, hosttest.PostgresBin()+":/usr/bin:/bin", map[string]string{"PGHOST": "127.0.0.1", "PGPORT": strconv.Itoa(port)})
	}
	requireUnhealthy(t, "postgres", svc.Healthcheck, env(port))

	pg := startPostgres(t, spec)
	out, err := check(t.Context(), svc.Healthcheck, env(pg.Port))
	require.NoError(t, err, "%s", out)
	assert.Contains(t, out, "accepting connections")
	_, err = pg.SQL(t.Context(), "nessie", "SELECT 1")
	assert.NoError(t, err, "the init script creates Nessie's database")
}

// imageDagsterHome is DAGSTER_HOME in the Dagster image (.dagger/build.go),
// where dagster.yaml and workspace.yaml are copied.
const imageDagsterHome = "/opt/dagster/dagster_home"

// rewritePort replaces the port from by to in args, as a whole number
// (the "4000" of `-p 4000`, the 3000 of `http://127.0.0.1:3000/…`), and
// says how many args it changed.
func rewritePort(args []string, from, to int) ([]string, int) {
	out := make([]string, len(args))
	changed := 0
	f, r := strconv.Itoa(from), strconv.Itoa(to)
	for i, a := range args {
		out[i] = a
		switch {
		case a == f:
			out[i] = r
		case strings.Contains(a, ":"+f+"/"):
			out[i] = strings.ReplaceAll(a, ":"+f+"/", ":"+r+"/")
		default:
			continue
		}
		changed++
	}
	return out, changed
}

// flag is the value after name in args ("" when absent).
func flag(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

// onHost adapts a Dagster service's command to this machine: listen on
// 127.0.0.1 instead of 0.0.0.0, on port instead of the compose port (0:
// no port), and read the instance files from home instead of the image's
// DAGSTER_HOME.
func onHost(t *testing.T, args []string, composePort, port int, home string) []string {
	t.Helper()
	out := append([]string{}, args...)
	for i, a := range out {
		if a == "0.0.0.0" {
			out[i] = "127.0.0.1"
		}
		out[i] = strings.Replace(out[i], imageDagsterHome+"/", home+"/", 1)
	}
	if composePort != 0 {
		var n int
		out, n = rewritePort(out, composePort, port)
		require.Equal(t, 1, n, "%q: the port %d appears once", args, composePort)
	}
	return out
}
