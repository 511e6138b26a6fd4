package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
)

// onCloud is a copy of the checkout's first environment file named env,
// deploying to cloud, first in its promotion chain unless upstream is set.
func onCloud(t testing.TB, env, cloud, upstream string) string {
	t.Helper()
	src := copyEnvironment(t, env)
	require.Regexp(t, `(?m)^\s*cloud_provider\s*=`, src, "the tfvars file sets cloud_provider")
	out := regexp.MustCompile(`(?m)^(\s*cloud_provider\s*=\s*)"[a-z]+"`).ReplaceAllString(src, `${1}"`+cloud+`"`)
	return regexp.MustCompile(`(?m)^(\s*promotion_upstream\s*=\s*)"[a-z0-9]*"`).ReplaceAllString(out, `${1}"`+upstream+`"`)
}

// gcpRepo is the checkout with two environments that deploy to gcp (a
// chain of their own) and a gcp lock file.
func gcpRepo(t testing.TB) string {
	t.Helper()
	root := repoWithExtraEnvironments(t, map[string]string{
		"gone.tfvars": onCloud(t, "gone", "gcp", ""),
		"gtwo.tfvars": onCloud(t, "gtwo", "gcp", "gone"),
	})
	require.NoError(t, os.WriteFile(filepath.Join(root, "gcp", ".terraform.lock.hcl"), []byte("# test lock\n"), 0o644))
	return root
}

// Without --cloud-provider a plan uses the root the environment's file
// names; with it, the other root reads the same file (the guide plans one
// environment file in both clouds).
func TestAnEnvironmentIsPlannedWithTheCloudItsFileNames(t *testing.T) {
	m, eng := tfEngineAt(t, gcpRepo(t), repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	m = withAWS(m).WithGcpCredentials(dag.SetSecret("gcp", canaryGCP))

	p, err := m.Plan(t.Context(), "gone", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "iceberg-lakehouse/gone", p.StateKey, "the gcs backend's prefix, not an s3 key")
	assert.Equal(t, "/src/gcp", planned(t, eng).Workdir())

	p, err = m.Plan(t.Context(), firstEnv(t), "", nil)
	require.NoError(t, err)
	assert.Equal(t, "iceberg-lakehouse/"+firstEnv(t)+"/terraform.tfstate", p.StateKey, "the repository's environments deploy to aws")

	p, err = m.Plan(t.Context(), "gone", "aws", nil)
	require.NoError(t, err, "an explicit --cloud-provider plans the same file with the other root")
	assert.Equal(t, "iceberg-lakehouse/gone/terraform.tfstate", p.StateKey)

	_, err = m.Plan(t.Context(), "gone", "azure", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--cloud-provider")
	assert.Contains(t, err.Error(), "allowed values are aws, gcp")
}

// A gcp environment's ledger is in the gcs state bucket of gcp's backend
// file, read with the Google credentials only.
func TestPromotingAGCPEnvironmentReadsTheUpstreamLedgerInTheGCSStateBucket(t *testing.T) {
	m, eng := tfEngineAt(t, gcpRepo(t), repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	ledger := &prefixLedger{logs: map[string][]string{}}
	eng.AnswerFunc("stdout", ledger.answer)
	m = withAWS(m).WithGcpCredentials(dag.SetSecret("gcp", canaryGCP))

	_, err := m.Promote(t.Context(), "gone", "gtwo", "", nil, false, "", "")
	require.Error(t, err, "gone has no release yet")
	assert.Contains(t, err.Error(), "deploy a release to gone first")

	c := ran(t, eng, "/tmp/lakehouse-ledger", "read")
	argv := c.LastExec()
	assert.Equal(t, "gcs", argAfter(argv, "--store"))
	assert.Equal(t, "/src/gcp/backend.tfbackend", argAfter(argv, "--backend"))
	assert.Equal(t, "iceberg-lakehouse/gone/releases", argAfter(argv, "--prefix"))
	assert.Contains(t, c.FileMounts(), "/src/gcp/backend.tfbackend")
	assert.Equal(t, gcpCredentialPath, c.Env()["GOOGLE_APPLICATION_CREDENTIALS"])
	assert.Contains(t, c.SecretMounts()[gcpCredentialPath], "setSecret(name:gcp")
	assert.Empty(t, c.SecretEnv(), "no AWS credential reaches a gcp environment's ledger")
	assertNoLeak(t, eng, canaryGCP[30:55])
}

// A gcp environment without Google credentials stops before any container.
func TestAGCPEnvironmentNeedsGoogleCredentials(t *testing.T) {
	m, eng := tfEngineAt(t, gcpRepo(t), repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	_, err := withAWS(m).Plan(t.Context(), "gone", "", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gcp credentials missing")
	assert.Empty(t, execsOf(eng), "nothing runs without the environment's credentials")
}

func execsOf(eng *enginetest.Engine) [][]string {
	var all [][]string
	for _, c := range eng.Containers() {
		all = append(all, c.Execs()...)
	}
	return all
}

// appliedGCPOutputs is `terraform output -json` of a gcp environment that
// runs the given images: Cloud Run services and jobs (gcp/outputs.tf).
func appliedGCPOutputs(env, runtimeImage, gateImage string) string {
	job := func(name string) map[string]any {
		return map[string]any{"launcher": "cloud-run-job", "job": name, "project": "lake-project-1", "region": "europe-west1"}
	}
	gate := job("lakehouse-" + env + "-quality-gate")
	gate["run_id_variable"], gate["report_uri"] = "GATE_RUN_ID", "gs://lakehouse-"+env+"-lakehouse/quality"
	values := map[string]any{
		"cloud": "gcp", "environment": env, "region": "europe-west1", "dagster_image": runtimeImage, "gate_image": gateImage,
		"dagster_env": map[string]string{"LAKEHOUSE_ENVIRONMENT": env, "ICEBERG_CATALOG_URI": "https://nessie.run.app/iceberg/main", "ICEBERG_WAREHOUSE": "gs://b/warehouse"},
		"dagster_services": map[string]any{"launcher": "cloud-run", "project": "lake-project-1", "region": "europe-west1", "services": map[string]any{
			"webserver": map[string]any{"name": "lakehouse-" + env + "-dagster-web", "revision": "lakehouse-" + env + "-dagster-web-00004-abc"}}},
		"smoke_run":    job("lakehouse-" + env + "-smoke"),
		"quality_gate": gate,
	}
	out := map[string]any{}
	for k, v := range values {
		out[k] = map[string]any{"sensitive": false, "type": "dynamic", "value": v}
	}
	out["dagster_storage_secret"] = map[string]any{"sensitive": true, "type": "string", "value": "postgres://dagster:hunter2-canary@10.0.0.3/dagster"}
	raw, _ := json.Marshal(out)
	return string(raw)
}

// A gcp environment deploys like an aws one: its root, its Cloud Run
// services and jobs followed by envrun with only the Google credentials,
// and its verdict in the ledger in gcp's state bucket.
func TestDeployOfAGCPEnvironmentVerifiesOnCloudRunAndRecordsInItsGCSLedger(t *testing.T) {
	rel := testRelease(t)
	m, eng, ledger, record := deployEngineAt(t, gcpRepo(t), "gone", rel, "pass")
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		last := c.LastExec()
		switch {
		case len(last) > 1 && last[1] == "output":
			return appliedGCPOutputs("gone", rel.RuntimeImage, rel.GateImage), true
		case len(last) > 1 && last[0] == envrunPath && last[1] != "gate":
			return `{"summary":"` + last[1] + ` done"}` + "\n", true
		}
		return nil, false
	})
	eng.AnswerFunc("entries", func(c enginetest.Chain) (any, bool) {
		return []string{"gate.json", "gate.md"}, c.Has("directory", "path", gateOut)
	})
	out, err := withAWS(m).WithGcpCredentials(dag.SetSecret("gcp", canaryGCP)).Deploy(t.Context(), "gone", record, "", nil, nil, false, "", "")
	require.NoError(t, err, cliMessage(err))
	for _, step := range []string{"| apply | ok", "| services running the release | ok", "| smoke materialization | ok", "| quality gate | ok | 0s | outcome pass (report gs://lakehouse-gone-lakehouse/quality/" + rel.ID + "-", "| record | ok"} {
		assert.Contains(t, out, step)
	}
	assert.Equal(t, "/src/gcp", ran(t, eng, "terraform", "apply").Workdir())

	g := ran(t, eng, envrunPath, "gate")
	assert.Equal(t, gcpCredentialPath, g.Env()["GOOGLE_APPLICATION_CREDENTIALS"])
	assert.Empty(t, g.SecretEnv(), "no AWS credential enters a gcp environment's verification")
	assert.Contains(t, g.NewFiles()[outputsPath], "cloud-run-job")
	assert.NotContains(t, g.NewFiles()[outputsPath], "hunter2-canary")

	appended := ran(t, eng, "/tmp/lakehouse-ledger", "append")
	assert.Equal(t, "gcs", argAfter(appended.LastExec(), "--store"))
	assert.Equal(t, "/src/gcp/backend.tfbackend", argAfter(appended.LastExec(), "--backend"))
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/gone/releases"][0]))
	require.NoError(t, err)
	assert.Equal(t, promotion.Passed, e.Verdict)
	for _, canary := range []string{canaryGCP[30:55], canarySecret, "hunter2-canary"} {
		assertNoLeak(t, eng, canary)
	}
}
