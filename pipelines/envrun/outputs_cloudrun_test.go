package envrun

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	gcpRuntimeIm = "europe-west1-docker.pkg.dev/lake-qa-1234/lakehouse/dagster@sha256:aa"
	gcpGateIm    = "europe-west1-docker.pkg.dev/lake-qa-1234/lakehouse/gate@sha256:bb"
	codeRevision = "projects/lake-qa-1234/locations/europe-west1/services/lake-qa-dagster-code/revisions/lake-qa-dagster-code-00007-xyz"
)

// gcpOutputsJSON is `terraform output -json` as the gcp root writes it,
// with edits applied to the values.
func gcpOutputsJSON(t *testing.T, edit func(map[string]any)) []byte {
	t.Helper()
	values := map[string]any{
		"environment":   "zzfixture",
		"region":        "europe-west1",
		"dagster_image": gcpRuntimeIm,
		"gate_image":    gcpGateIm,
		"dagster_services": map[string]any{
			"launcher": "cloud-run", "project": "lake-qa-1234", "region": "europe-west1",
			"services": map[string]any{
				"code_server": map[string]any{"name": "lake-qa-dagster-code", "revision": codeRevision},
				"webserver":   map[string]any{"name": "lake-qa-dagster-web", "revision": "lake-qa-dagster-web-00003-abc"},
			},
		},
		"smoke_run": map[string]any{"launcher": "cloud-run-job", "job": "lake-qa-dagster-smoke", "project": "lake-qa-1234", "region": "europe-west1"},
		"quality_gate": map[string]any{
			"launcher": "cloud-run-job", "job": "lake-qa-quality-gate", "project": "lake-qa-1234", "region": "europe-west1",
			"run_id_variable": "GATE_RUN_ID", "report_uri": "gs://lake-qa-lakehouse/quality",
		},
	}
	if edit != nil {
		edit(values)
	}
	out := map[string]any{}
	for k, v := range values {
		out[k] = map[string]any{"sensitive": false, "type": "dynamic", "value": v}
	}
	raw, err := json.Marshal(out)
	require.NoError(t, err)
	return raw
}

func TestParseOutputsReadsCloudRunTargets(t *testing.T) {
	o, err := ParseOutputs(gcpOutputsJSON(t, nil))
	require.NoError(t, err)
	assert.Equal(t, PlatformCloudRun, o.Platform())
	assert.Nil(t, o.Services, "no ECS targets on GCP")
	assert.Nil(t, o.Gate)
	require.NotNil(t, o.CloudRunServices)
	assert.Equal(t, []string{"code_server", "webserver"}, o.CloudRunServices.Roles())
	assert.Equal(t, "projects/lake-qa-1234/locations/europe-west1/services/lake-qa-dagster-web", o.CloudRunServices.ServiceName("lake-qa-dagster-web"))
	require.NotNil(t, o.SmokeJob)
	assert.Equal(t, "projects/lake-qa-1234/locations/europe-west1/jobs/lake-qa-dagster-smoke", o.SmokeJob.Name())
	require.NotNil(t, o.GateJob)
	bucket, object := o.GateJob.ReportObject("r1")
	assert.Equal(t, "lake-qa-lakehouse", bucket)
	assert.Equal(t, "quality/r1/gate.json", object)

	assert.True(t, o.HasServices())
	assert.True(t, o.HasSmoke())
	assert.True(t, o.HasGate())
	assert.Equal(t, "gs://lake-qa-lakehouse/quality/r1/gate.json", o.GateReportURI("r1"))
	require.NoError(t, o.CheckRelease(gcpRuntimeIm, gcpGateIm))
	assert.ErrorContains(t, o.CheckRelease(gcpRuntimeIm+"0", gcpGateIm), "Dagster image")
	assert.ErrorContains(t, o.CheckRelease(gcpRuntimeIm, gcpGateIm+"0"), "gate task runs")
}

// The accessors answer the same for both clouds, so the pipeline needs no
// per-cloud code.
func TestAccessorsAreCloudNeutral(t *testing.T) {
	aws, err := ParseOutputs(outputsJSON(t, nil))
	require.NoError(t, err)
	assert.Equal(t, PlatformECS, aws.Platform())
	assert.True(t, aws.HasServices() && aws.HasSmoke() && aws.HasGate())
	assert.Equal(t, "s3://lake-qa-bucket/quality/r1/gate.json", aws.GateReportURI("r1"))

	for name, raw := range map[string][]byte{
		"aws": outputsJSON(t, func(v map[string]any) {
			v["dagster_services"], v["smoke_run"], v["quality_gate"], v["dagster_image"], v["gate_image"] = nil, nil, nil, nil, nil
		}),
		"gcp": gcpOutputsJSON(t, func(v map[string]any) {
			v["dagster_services"], v["smoke_run"], v["quality_gate"], v["dagster_image"], v["gate_image"] = nil, nil, nil, nil, nil
		}),
	} {
		none, err := ParseOutputs(raw)
		require.NoError(t, err, name)
		assert.Equal(t, PlatformNone, none.Platform(), name)
		assert.False(t, none.HasServices() || none.HasSmoke() || none.HasGate(), name)
		assert.Empty(t, none.GateReportURI("r1"), name)
		assert.ErrorContains(t, none.CheckRelease(gcpRuntimeIm, gcpGateIm), "no quality-gate task", name)
	}

	gateOnly, err := ParseOutputs(gcpOutputsJSON(t, func(v map[string]any) {
		v["dagster_services"], v["smoke_run"], v["dagster_image"] = nil, nil, nil
	}))
	require.NoError(t, err)
	assert.Equal(t, PlatformCloudRun, gateOnly.Platform(), "a gate without Dagster still says where it runs")
	assert.False(t, gateOnly.HasSmoke())
	require.NoError(t, gateOnly.CheckRelease("any runtime image: no Dagster to run it", gcpGateIm))
}

func TestParseOutputsRefusesCloudRunTargetsItCannotStart(t *testing.T) {
	gate := func(v map[string]any) map[string]any { return v["quality_gate"].(map[string]any) }
	cases := map[string]struct {
		edit func(map[string]any)
		want string
	}{
		"jobs launcher for services":  {func(v map[string]any) { v["dagster_services"].(map[string]any)["launcher"] = "cloud-run-job" }, `dagster_services: launcher "cloud-run-job"`},
		"services launcher for a job": {func(v map[string]any) { gate(v)["launcher"] = "cloud-run" }, `quality_gate: launcher "cloud-run"`},
		"mixed launchers": {func(v map[string]any) {
			v["smoke_run"] = map[string]any{"launcher": "ecs", "cluster": cluster, "task_definition": runDef, "container": "run",
				"subnets": []string{"subnet-0123456789abcdef0"}, "security_groups": []string{}, "assign_public_ip": false, "command": []string{}}
		}, "mix launchers"},
		"s3 report uri":      {func(v map[string]any) { gate(v)["report_uri"] = "s3://lake-qa/quality" }, "not a gs://bucket/prefix URI"},
		"no bucket":          {func(v map[string]any) { gate(v)["report_uri"] = "gs:///quality" }, "not a gs://bucket/prefix URI"},
		"bad project":        {func(v map[string]any) { gate(v)["project"] = "Lake QA" }, "not a Google Cloud project id"},
		"bad region":         {func(v map[string]any) { gate(v)["region"] = "europe" }, "not a Google Cloud region"},
		"bad job name":       {func(v map[string]any) { v["smoke_run"].(map[string]any)["job"] = "Lake_Smoke" }, "not a Cloud Run job name"},
		"unknown key":        {func(v map[string]any) { gate(v)["container"] = "gate" }, `unknown field "container"`},
		"run id var":         {func(v map[string]any) { gate(v)["run_id_variable"] = "gate-run-id" }, "not an environment variable"},
		"no services listed": {func(v map[string]any) { v["dagster_services"].(map[string]any)["services"] = map[string]any{} }, "no services listed"},
		"no revision": {func(v map[string]any) {
			v["dagster_services"].(map[string]any)["services"] = map[string]any{"daemon": map[string]any{"name": "lake-qa-dagster-daemon", "revision": ""}}
		}, "service daemon: needs a Cloud Run service name and revision"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseOutputs(gcpOutputsJSON(t, tc.edit))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
