package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// appliedOutputs is `terraform output -json` of an environment that runs
// the given images, with the verification targets envrun reads.
func appliedOutputs(env, runtimeImage, gateImage string) string {
	cluster := "arn:aws:ecs:eu-west-1:123456789012:cluster/lake"
	def := func(name string) string { return "arn:aws:ecs:eu-west-1:123456789012:task-definition/" + name + ":4" }
	task := func(def, container string) map[string]any {
		return map[string]any{"launcher": "ecs", "cluster": cluster, "task_definition": def, "container": container,
			"subnets": []string{"subnet-0123456789abcdef0"}, "security_groups": []string{"sg-0123456789abcdef0"}, "assign_public_ip": false, "command": []string{}}
	}
	smoke := task(def("lake-dagster-run"), "run")
	smoke["command"] = []string{"python", "-m", "lakehouse.smoke"}
	gate := task(def("lake-quality-gate"), "gate")
	gate["run_id_variable"], gate["report_uri"] = "GATE_RUN_ID", "s3://lake-bucket/quality"
	values := map[string]any{
		"environment": env, "region": "eu-west-1", "dagster_image": runtimeImage, "gate_image": gateImage,
		"dagster_env": map[string]string{"LAKEHOUSE_ENVIRONMENT": env, "ICEBERG_CATALOG_URI": "https://nessie.internal/iceberg/main", "ICEBERG_WAREHOUSE": "s3://b/warehouse"},
		"dagster_services": map[string]any{"launcher": "ecs", "cluster": cluster, "services": map[string]any{
			"webserver": map[string]any{"name": "lake-dagster-webserver", "task_definition": def("lake-dagster-webserver")}}},
		"smoke_run":              smoke,
		"quality_gate":           gate,
		"dagster_storage_secret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1",
	}
	out := map[string]any{}
	for k, v := range values {
		out[k] = map[string]any{"sensitive": false, "type": "dynamic", "value": v}
	}
	out["db_password_for_test"] = map[string]any{"sensitive": true, "type": "string", "value": "hunter2-canary"}
	raw, _ := json.Marshal(out)
	return string(raw)
}

// inEnvironmentEngine fakes a deploy verified inside the environment: the
// outputs of an environment running runtime/gate images, envrun's answers,
// and the gate report it fetched.
func inEnvironmentEngine(t testing.TB, env string, rel release.Record, runtimeImage, outcome string) (*Lakehouse, *enginetest.Engine, *prefixLedger, string) {
	t.Helper()
	m, eng, ledger, record := deployEngine(t, env, rel, outcome)
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		last := c.LastExec()
		switch {
		case len(last) > 1 && last[1] == "output":
			return appliedOutputs(env, runtimeImage, rel.GateImage), true
		case len(last) > 1 && last[0] == envrunPath && last[1] != "gate":
			return `{"summary":"` + last[1] + ` done"}` + "\n", true
		}
		return nil, false
	})
	eng.AnswerFunc("entries", func(c enginetest.Chain) (any, bool) {
		return []string{"gate.json", "gate.md"}, c.Has("directory", "path", gateOut)
	})
	raw, _ := rel.JSON()
	_ = record
	return m, eng, ledger, string(raw)
}

func TestDeployVerifiesInsideTheEnvironmentByDefault(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, ledger, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "pass")
	out, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "")
	require.NoError(t, err, cliMessage(err))
	steps := []string{"| verification tool | ok", "| apply | ok", "| read outputs | ok", "| services running the release | ok | 0s | services done", "| smoke materialization | ok | 0s | smoke done", "| quality gate | ok | 0s | outcome pass (report s3://lake-bucket/quality/" + rel.ID + "-", "| record | ok"}
	for _, step := range steps {
		assert.Contains(t, out, step)
	}
	// Order: apply, then the services, the smoke task, the gate task, then the ledger.
	apply, services, smoke, gate, record := queryIndex(eng, `"apply"`), queryIndex(eng, `"services","--outputs"`), queryIndex(eng, `"smoke","--outputs"`), queryIndex(eng, `"gate","--outputs"`), queryIndex(eng, `"append"`)
	for i, pair := range [][2]int{{apply, services}, {services, smoke}, {smoke, gate}, {gate, record}} {
		assert.Less(t, pair[0], pair[1], "step %d out of order", i)
	}
	// The gate task is bound to the release: its run id names it and the
	// gate's arguments carry the commit and both digests.
	g := ran(t, eng, envrunPath, "gate")
	argv := g.Execs()[len(g.Execs())-1]
	assert.True(t, strings.HasPrefix(argAfter(argv, "--run-id"), rel.ID+"-"), argv)
	assert.Equal(t, rel.Commit, argAfter(argv, "--commit"))
	assert.Equal(t, rel.RuntimeImage, argAfter(argv, "--runtime-image"))
	assert.Equal(t, rel.GateImage, argAfter(argv, "--gate-image"))
	assert.Equal(t, "lakehouse-release-"+rel.ID, argAfter(argv, "--started-by"))
	// No gate ran from this runner.
	assert.Negative(t, queryIndex(eng, "lakehouse.quality.gate"), "the gate ran inside the environment, not here")
	// Credentials only as secrets; sensitive outputs never enter the tool's container.
	assert.Contains(t, g.SecretEnv()["AWS_SECRET_ACCESS_KEY"], "setSecret(")
	assert.NotContains(t, g.NewFiles()[outputsPath], "hunter2-canary")
	assert.Contains(t, g.NewFiles()[outputsPath], "quality_gate")
	for _, canary := range []string{canaryKeyID, canarySecret, canaryToken, "hunter2-canary"} {
		assertNoLeak(t, eng, canary)
	}
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+first+"/releases"][0]))
	require.NoError(t, err)
	assert.Equal(t, promotion.Passed, e.Verdict)
	assert.Equal(t, "pass", e.Gate.Outcome)
}

func TestDeployRefusesToVerifyAnEnvironmentThatDoesNotRunTheRelease(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	other := "registry.example/lakehouse@sha256:" + strings.Repeat("9", 64)
	m, eng, ledger, raw := inEnvironmentEngine(t, first, rel, other, "pass")
	_, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "")
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "| read outputs | failed")
	assert.Contains(t, msg, "not the release's")
	assert.Negative(t, queryIndex(eng, `"gate","--outputs"`), "no gate runs against other images")
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+first+"/releases"][0]))
	require.NoError(t, err)
	assert.Equal(t, promotion.Failed, e.Verdict, "an applied release that cannot be verified is recorded as failed")
}

func TestDeployRecordsAFailedSmokeTaskWithItsReason(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, ledger, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "pass")
	eng.FailExec(1, "", "smoke task abc\nenvrun smoke: the smoke task abc exited with 1\nlast lines of its log:\nValueError: boom", envrunPath, "smoke")
	_, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "")
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "| smoke materialization | failed")
	assert.Contains(t, msg, "ValueError: boom", "the task's own log reaches the user")
	assert.Negative(t, queryIndex(eng, `"gate","--outputs"`), "no gate after a failed smoke run")
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+first+"/releases"][0]))
	require.NoError(t, err)
	assert.Equal(t, promotion.Failed, e.Verdict)
}

func TestDeployRecordsAFailingInEnvironmentGate(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, _, ledger, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "fail")
	_, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "")
	require.Error(t, err)
	assert.Contains(t, cliMessage(err), "| quality gate | failed")
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+first+"/releases"][0]))
	require.NoError(t, err)
	assert.Equal(t, promotion.Failed, e.Verdict)
	assert.Equal(t, "fail", e.Gate.Outcome, "the report is kept as evidence")
}

func TestQualityRunsTheGateTaskOfTheEnvironment(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, _, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "warn")
	report, err := withAWS(m).Quality(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", false)
	require.NoError(t, err)
	assert.Equal(t, "warn", report.Outcome)
	assert.Equal(t, "# Quality gate", report.Markdown)
	g := ran(t, eng, envrunPath, "gate")
	assert.Equal(t, rel.Commit, argAfter(g.Execs()[len(g.Execs())-1], "--commit"))
	assert.Negative(t, queryIndex(eng, `"smoke","--outputs"`), "quality runs only the gate")

	// Without a release: the environment's own images, bound to no release.
	m, eng, _, _ = inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "pass")
	report, err = withAWS(m).Quality(t.Context(), first, nil, "aws", false)
	require.NoError(t, err)
	require.NoError(t, report.RequirePass())
	g = ran(t, eng, envrunPath, "gate")
	assert.Empty(t, argAfter(g.Execs()[len(g.Execs())-1], "--commit"))
}

func TestDeployStopsBeforeApplyWhenTheVerificationToolDoesNotBuild(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, ledger, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "pass")
	eng.FailExec(1, "", "cmd/envrun/main.go:9:2: undefined: cli.Run", "go", "build", "-trimpath", "-o", "/out/envrun")
	_, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "")
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "| verification tool | failed")
	assert.Contains(t, msg, "undefined: cli.Run", "the compiler's own reason")
	assert.Negative(t, queryIndex(eng, `"apply"`), "nothing is applied")
	assert.Empty(t, ledger.logs["iceberg-lakehouse/"+first+"/releases"], "nothing happened to record")
}

func TestDeployToAnEnvironmentWithoutDagsterRunsOnlyTheGate(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, _, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "pass")
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 1 && last[1] == "output" {
			var outs map[string]map[string]any
			_ = json.Unmarshal([]byte(appliedOutputs(first, rel.RuntimeImage, rel.GateImage)), &outs)
			for _, k := range []string{"dagster_services", "smoke_run", "dagster_image"} {
				outs[k]["value"] = nil
			}
			b, _ := json.Marshal(outs)
			return string(b), true
		}
		return nil, false
	})
	out, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "")
	require.NoError(t, err, cliMessage(err))
	assert.Contains(t, out, "| smoke materialization | skipped")
	assert.Contains(t, out, "| quality gate | ok")
	assert.Negative(t, queryIndex(eng, `"smoke","--outputs"`), "no smoke task to start")
}
