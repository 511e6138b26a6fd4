package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runapi "google.golang.org/api/run/v2"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun/cloudruntest"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/cliexit"
)

// End to end on GCP: the command reads outputs in gcp/'s shape and, with
// --endpoint, sends every Cloud Run, Cloud Logging and Cloud Storage call to
// the fake of those APIs (pipelines/envrun/cloudrun/cloudruntest).

const (
	gcpImage   = "europe-west1-docker.pkg.dev/lake-qa-1234/lakehouse/dagster@sha256:aa"
	gcpBucket  = "lake-qa-lakehouse"
	gateScript = "python -m lakehouse.quality.gate \"$@\""
)

var services = map[string]string{"code_server": "lake-qa-dagster-code", "daemon": "lake-qa-dagster-daemon", "webserver": "lake-qa-dagster-web"}

func gcpRevision(name string) string {
	return "projects/lake-qa-1234/locations/europe-west1/services/" + name + "/revisions/" + name + "-00003-abc"
}

// gcpOutputs writes `terraform output -json` as the gcp root gives it.
func gcpOutputs(t *testing.T, dagster bool) string {
	t.Helper()
	v := func(x any) map[string]any { return map[string]any{"sensitive": false, "value": x} }
	where := func(m map[string]any) map[string]any {
		m["project"], m["region"] = cloudruntest.Project, cloudruntest.Region
		return m
	}
	out := map[string]any{
		"environment": v("zzfixture"), "region": v(cloudruntest.Region), "dagster_image": v(nil), "gate_image": v("europe-west1-docker.pkg.dev/lake-qa-1234/lakehouse/gate@sha256:bb"),
		"dagster_services": v(nil), "smoke_run": v(nil),
		"quality_gate": v(where(map[string]any{"launcher": "cloud-run-job", "job": "lake-qa-quality-gate", "run_id_variable": "GATE_RUN_ID", "report_uri": "gs://" + gcpBucket + "/quality"})),
	}
	if dagster {
		svcs := map[string]any{}
		for role, name := range services {
			svcs[role] = map[string]any{"name": name, "revision": gcpRevision(name)}
		}
		out["dagster_image"] = v(gcpImage)
		out["dagster_services"] = v(where(map[string]any{"launcher": "cloud-run", "services": svcs}))
		out["smoke_run"] = v(where(map[string]any{"launcher": "cloud-run-job", "job": "lake-qa-dagster-smoke"}))
	}
	raw, err := json.Marshal(out)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "out.json")
	require.NoError(t, os.WriteFile(p, raw, 0o600))
	return p
}

// gcpWorld is the fake with gcp/'s services and jobs; the gate job writes
// its report as gate.sh does.
func gcpWorld(t *testing.T, smoke ...*runapi.GoogleCloudRunV2Execution) *cloudruntest.Server {
	f := cloudruntest.New(t)
	for _, name := range services {
		f.Service(name, cloudruntest.ReadyService(gcpRevision(name), gcpImage))
	}
	f.Job("lake-qa-dagster-smoke", &runapi.GoogleCloudRunV2Container{Image: gcpImage, Command: []string{"/bin/sh", "-c", "exec \"$@\"", "dagster-entrypoint"},
		Args: []string{"python", "-m", "lakehouse.smoke"}}, smoke...)
	f.Job("lake-qa-quality-gate", &runapi.GoogleCloudRunV2Container{Command: []string{"/bin/sh", "-c", gateScript, "quality-gate"}},
		cloudruntest.Running(), cloudruntest.Failed("Task lake-qa-quality-gate-r0001-task0 failed with message: The container exited with an error."))
	f.Attempt("lake-qa-quality-gate", &runapi.GoogleCloudRunV2TaskAttemptResult{ExitCode: 2})
	f.GCS.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: gcpBucket})
	f.OnRun("lake-qa-quality-gate", func(st cloudruntest.Started) {
		prefix := "quality/" + st.Env["GATE_RUN_ID"] + "/"
		f.GCS.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: gcpBucket, Name: prefix + "gate.json"}, Content: []byte(`{"outcome":"warn"}`)})
		f.GCS.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: gcpBucket, Name: prefix + "gate.md"}, Content: []byte("# warn")})
	})
	return f
}

// invokeGCP runs the command with the real Google Cloud connection.
func invokeGCP(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	noAWS := func(context.Context, string, string) (clients, error) {
		t.Fatal("GCP outputs must not reach for AWS")
		return clients{}, nil
	}
	code := run(context.Background(), args, &stdout, &stderr, deps{aws: noAWS, gcp: gcpRunner, tuneGCP: func(r *cloudrun.Runner) { r.Poll = time.Millisecond }})
	return code, stdout.String(), stderr.String()
}

func TestGCPGateWritesTheReport(t *testing.T) {
	f := gcpWorld(t)
	dir := t.TempDir()
	code, out, errOut := invokeGCP(t, "gate", "--outputs", gcpOutputs(t, true), "--endpoint", f.URL, "--run-id", "rel-1", "--out", dir, "--", "--commit", "abc")
	require.Equal(t, cliexit.OK, code, errOut)
	assert.JSONEq(t, `{"summary":"report in `+dir+`"}`, out)
	assert.Contains(t, errOut, "quality gate task exited with 2")
	report, err := os.ReadFile(filepath.Join(dir, "gate.json"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"outcome":"warn"}`, string(report))
	md, err := os.ReadFile(filepath.Join(dir, "gate.md"))
	require.NoError(t, err)
	assert.Equal(t, "# warn", string(md))
	st := f.Started()[0]
	assert.Equal(t, "rel-1", st.Env["GATE_RUN_ID"])
	assert.Equal(t, []string{"/bin/sh", "-c", gateScript, "quality-gate", "--commit", "abc"}, st.Argv)
	require.NotEmpty(t, f.Authorizations())
	for _, a := range f.Authorizations() {
		assert.Empty(t, a, "--endpoint calls carry no credentials")
	}

	f = gcpWorld(t)
	code, out, errOut = invokeGCP(t, "gate", "--outputs", gcpOutputs(t, false), "--endpoint", f.URL, "--run-id", "rel-2")
	require.Equal(t, cliexit.OK, code, errOut)
	assert.JSONEq(t, `{"outcome":"warn"}`, out, "without --out the report goes to stdout")
}

func TestGCPServicesAndSmoke(t *testing.T) {
	f := gcpWorld(t, cloudruntest.Running(), cloudruntest.Succeeded())
	code, out, errOut := invokeGCP(t, "services", "--outputs", gcpOutputs(t, true), "--endpoint", f.URL)
	require.Equal(t, cliexit.OK, code, errOut)
	assert.JSONEq(t, `{"summary":"3 services run the release"}`, out)

	code, out, errOut = invokeGCP(t, "smoke", "--outputs", gcpOutputs(t, true), "--endpoint", f.URL, "--started-by", "lakehouse-release-r1", "--", "--partition", "2026-12-01")
	require.Equal(t, cliexit.OK, code, errOut)
	assert.JSONEq(t, `{"summary":"every asset materialized (task projects/lake-qa-1234/locations/europe-west1/jobs/lake-qa-dagster-smoke/executions/lake-qa-dagster-smoke-r0001)"}`, out)
	assert.Equal(t, []string{"/bin/sh", "-c", "exec \"$@\"", "dagster-entrypoint", "python", "-m", "lakehouse.smoke", "--partition", "2026-12-01"}, f.Started()[0].Argv)
	assert.Contains(t, errOut, "smoke job execution lake-qa-dagster-smoke-r0001: succeeded", "progress goes to stderr")
}

func TestGCPFailuresExitOne(t *testing.T) {
	f := gcpWorld(t, cloudruntest.Failed("Task lake-qa-dagster-smoke-r0001-task0 failed with message: The container exited with an error."))
	f.Attempt("lake-qa-dagster-smoke", &runapi.GoogleCloudRunV2TaskAttemptResult{ExitCode: 1})
	f.Logs("lake-qa-dagster-smoke", "dagster._core.errors.DagsterExecutionStepExecutionError: boom")
	code, _, errOut := invokeGCP(t, "smoke", "--outputs", gcpOutputs(t, true), "--endpoint", f.URL)
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "envrun smoke: the smoke task lake-qa-dagster-smoke-r0001 exited with 1")
	assert.Contains(t, errOut, "DagsterExecutionStepExecutionError: boom")

	f = gcpWorld(t, cloudruntest.Running())
	code, _, errOut = invokeGCP(t, "smoke", "--outputs", gcpOutputs(t, true), "--endpoint", f.URL, "--timeout", "50ms")
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "did not finish within 50ms; it was cancelled")
	assert.Len(t, f.Cancelled(), 1)

	f = gcpWorld(t)
	f.Service("lake-qa-dagster-web", cloudruntest.ReadyService(gcpRevision("lake-qa-dagster-web")+"x", gcpImage))
	code, _, errOut = invokeGCP(t, "services", "--outputs", gcpOutputs(t, true), "--endpoint", f.URL)
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "another deploy replaced the release")
}

// Credentials are resolved before anything starts, with a message that
// says what to set; what the environment lacks needs none.
func TestGCPCredentials(t *testing.T) {
	f := gcpWorld(t)
	code, _, errOut := invokeGCP(t, "gate", "--outputs", gcpOutputs(t, true), "--run-id", "rel-1")
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "no usable Google credentials: GOOGLE_APPLICATION_CREDENTIALS=")
	assert.Empty(t, f.Started())

	code, out, errOut := invokeGCP(t, "services", "--outputs", gcpOutputs(t, false))
	require.Equal(t, cliexit.OK, code, errOut)
	assert.Contains(t, out, "no Dagster services")
	code, _, errOut = invokeGCP(t, "smoke", "--outputs", gcpOutputs(t, false))
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "no smoke task (smoke_run is null)")
}

func TestOutputsOfTwoCloudsAreRefused(t *testing.T) {
	raw, err := os.ReadFile(gcpOutputs(t, false))
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out))
	out["smoke_run"] = map[string]any{"sensitive": false, "value": map[string]any{"launcher": "ecs", "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/lake",
		"task_definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/lake-run:1", "container": "run", "subnets": []string{"subnet-0123456789abcdef0"},
		"security_groups": []string{}, "assign_public_ip": false, "command": []string{}}}
	raw, err = json.Marshal(out)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "mixed.json")
	require.NoError(t, os.WriteFile(p, raw, 0o600))
	code, _, errOut := invokeGCP(t, "gate", "--outputs", p, "--run-id", "rel-1")
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "mix launchers")
}
