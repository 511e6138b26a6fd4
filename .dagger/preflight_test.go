package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/compose"
)

// Bad arguments fail first, before any check, build or service, and each
// error names the thing that is wrong.

func TestCiRefusesAnUnknownEnvironmentBeforeAnyCheckOrBuild(t *testing.T) {
	m, eng, _ := ciEngine(t, "pass")
	_, err := m.Ci(t.Context(), "zzmissing", false, false, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.Error(t, err)
	msg := cliMessage(err)
	assert.True(t, strings.HasPrefix(msg, `ci: unknown environment "zzmissing": known environments are `), msg)
	assert.NotContains(t, msg, "Rerun", "no run report: nothing ran")
	for _, ran := range []string{`"vet"`, "publish(", `"terraform"`, "asService"} {
		assert.Negative(t, queryIndex(eng, ran), "%s ran before the environment was checked", ran)
	}
}

func TestCiRefusesAnOverrideOfAServiceTheStackLacksBeforeAnyBuild(t *testing.T) {
	m, eng, _ := ciEngine(t, "pass")
	_, err := m.Ci(t.Context(), localEnv(t), false, false, nil, []string{"zznosuch=registry.example/x:1"}, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.Error(t, err)
	assert.Contains(t, cliMessage(err), "--service-image: no service zznosuch in this stack (services: ")
	assert.Negative(t, queryIndex(eng, "publish("))
	assert.Negative(t, queryIndex(eng, `"vet"`))
}

// strictEnv is an environment whose compose files require the Postgres
// password (its env file adds the production overlay).
func strictEnv(t *testing.T) string {
	t.Helper()
	for _, env := range repoEnvironments(t, repoRoot(t)) {
		for _, line := range strings.Split(repoFile(t, "dagster/.env."+env), "\n") {
			if strings.HasPrefix(line, "COMPOSE_FILE=") && strings.Contains(line, "docker-compose.prod.yaml") {
				return env
			}
		}
	}
	t.Fatal("no environment adds the production overlay")
	return ""
}

func TestAStackThatNeedsThePasswordSaysOnceWhichFlagPassesIt(t *testing.T) {
	env := strictEnv(t)
	_, _, err := stackEngine(t, repoRoot(t), env, false)
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "stack "+env+": the compose files require DAGSTER_POSTGRES_PASSWORD, a secret: pass --postgres-password env://DAGSTER_POSTGRES_PASSWORD")
	assert.Equal(t, 1, strings.Count(msg, "DAGSTER_POSTGRES_PASSWORD,"), msg)
	assert.NotContains(t, msg, "required variable", "compose-go's five per-use errors stay out")

	m, eng, _ := ciEngine(t, "pass")
	_, err = m.Ci(t.Context(), env, false, false, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.Error(t, err)
	assert.Contains(t, cliMessage(err), "pass --postgres-password env://DAGSTER_POSTGRES_PASSWORD", "ci takes the flag too")
	assert.Negative(t, queryIndex(eng, "publish("))
}

func TestAFailingOneShotJobIsReportedAsThatJob(t *testing.T) {
	m, eng, _ := ciEngine(t, "pass")
	env := localEnv(t)
	plan, err := m.planStack(t.Context(), env, nil, nil)
	require.NoError(t, err)
	spec := plan.spec
	var job, waiter string
	var argv []string
	for _, svc := range spec.Services {
		if svc.OneShot && job == "" {
			job, argv = svc.Name, serviceArgs(svc).Args
		}
		for _, d := range svc.DependsOn {
			if d.Service == job && d.Condition == compose.Completed {
				waiter = svc.Name
			}
		}
	}
	require.NotEmpty(t, job, "the local stack has a one-shot job")
	require.NotEmpty(t, waiter, "and a service that waits for it")
	eng.FailExec(1, "", "cannot connect to master zzstore:9333 within 30s", argv...)

	r, err := m.CiResult(t.Context(), env, true, false, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.NoError(t, err)
	msg := r.Markdown
	assert.Contains(t, msg, "stack "+env+": one-shot job "+job+" failed:")
	assert.Contains(t, msg, "cannot connect to master zzstore:9333 within 30s", "the job's own output")
	assert.NotContains(t, msg, "service "+waiter+" did not start")
}

func TestAMalformedReleaseRecordNamesTheFile(t *testing.T) {
	env := localEnv(t)
	m, eng, _, _ := deployEngine(t, env, testRelease(t), "pass")
	malformed := "{\n  \"schema_version\": 1,\n  oops\n}\n"
	eng.AnswerFunc("contents", func(c enginetest.Chain) (any, bool) { return malformed, c.Has("file", "path", "zz-release.json") })
	bad := dag.Directory().WithNewFile("zz-release.json", malformed).File("zz-release.json")
	_, err := m.Deploy(t.Context(), env, bad, "", nil, nil, false, "", "")
	require.Error(t, err)
	assert.Contains(t, cliMessage(err), "release record zz-release.json:3: not valid JSON")
}
