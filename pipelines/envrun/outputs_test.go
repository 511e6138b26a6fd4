package envrun

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	cluster   = "arn:aws:ecs:eu-west-1:123456789012:cluster/lake"
	runDef    = "arn:aws:ecs:eu-west-1:123456789012:task-definition/lake-dagster-run:7"
	gateDef   = "arn:aws:ecs:eu-west-1:123456789012:task-definition/lake-quality-gate:3"
	webDef    = "arn:aws:ecs:eu-west-1:123456789012:task-definition/lake-dagster-webserver:7"
	runtimeIm = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lake@sha256:" + "aa"
	gateIm    = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lake@sha256:" + "bb"
)

// outputsJSON is `terraform output -json` as the aws root writes it, with
// edits applied to the values.
func outputsJSON(t *testing.T, edit func(map[string]any)) []byte {
	t.Helper()
	values := map[string]any{
		"environment":   "zzfixture",
		"region":        "eu-west-1",
		"dagster_image": runtimeIm,
		"gate_image":    gateIm,
		"dagster_services": map[string]any{
			"launcher": "ecs", "cluster": cluster,
			"services": map[string]any{"webserver": map[string]any{"name": "lake-dagster-webserver", "task_definition": webDef}},
		},
		"smoke_run": map[string]any{
			"launcher": "ecs", "cluster": cluster, "task_definition": runDef, "container": "run",
			"subnets": []string{"subnet-0123456789abcdef0"}, "security_groups": []string{"sg-0123456789abcdef0"},
			"assign_public_ip": false, "command": []string{"python", "-m", "lakehouse.smoke"},
		},
		"quality_gate": map[string]any{
			"launcher": "ecs", "cluster": cluster, "task_definition": gateDef, "container": "gate",
			"subnets": []string{"subnet-0123456789abcdef0"}, "security_groups": []string{"sg-0123456789abcdef0"},
			"assign_public_ip": false, "run_id_variable": "GATE_RUN_ID", "report_uri": "s3://lake-qa-bucket/quality",
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

func TestParseOutputsReadsWhatToStart(t *testing.T) {
	o, err := ParseOutputs(outputsJSON(t, nil))
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", o.Region)
	require.NotNil(t, o.Services)
	assert.Equal(t, webDef, o.Services.Services["webserver"].TaskDefinition)
	require.NotNil(t, o.Smoke)
	assert.Equal(t, []string{"python", "-m", "lakehouse.smoke"}, o.Smoke.Command)
	require.NotNil(t, o.Gate)
	assert.Equal(t, "GATE_RUN_ID", o.Gate.RunIDVariable)
	bucket, key := o.Gate.ReportKey("r1")
	assert.Equal(t, "lake-qa-bucket", bucket)
	assert.Equal(t, "quality/r1/gate.json", key)
	require.NoError(t, o.CheckRelease(runtimeIm, gateIm))
}

func TestParseOutputsWithoutDagsterOrGate(t *testing.T) {
	o, err := ParseOutputs(outputsJSON(t, func(v map[string]any) {
		v["dagster_services"], v["smoke_run"], v["quality_gate"], v["dagster_image"], v["gate_image"] = nil, nil, nil, nil, nil
	}))
	require.NoError(t, err)
	assert.Nil(t, o.Services)
	assert.Nil(t, o.Smoke)
	assert.Nil(t, o.Gate)
	assert.ErrorContains(t, o.CheckRelease(runtimeIm, gateIm), "no quality-gate task")
}

func TestParseOutputsRefusesWhatItCannotStart(t *testing.T) {
	cases := map[string]struct {
		edit func(map[string]any)
		want string
	}{
		"not json":       {nil, "not the JSON"},
		"missing output": {func(v map[string]any) { delete(v, "smoke_run") }, "have no smoke_run"},
		"mixed launchers": {func(v map[string]any) {
			v["quality_gate"] = map[string]any{"launcher": "cloud-run-job", "job": "lake-qa-quality-gate", "project": "lake-qa-1234", "region": "europe-west1", "run_id_variable": "GATE_RUN_ID", "report_uri": "gs://lake-qa/quality"}
		}, "mix launchers: dagster_services is \"ecs\" but quality_gate is \"cloud-run-job\""},
		"unknown launcher":        {func(v map[string]any) { v["smoke_run"].(map[string]any)["launcher"] = "kubernetes" }, `launcher "kubernetes"`},
		"gcp launcher, ecs shape": {func(v map[string]any) { v["smoke_run"].(map[string]any)["launcher"] = "cloud-run-job" }, "unexpected shape"},
		"bad cluster":             {func(v map[string]any) { v["smoke_run"].(map[string]any)["cluster"] = "lake" }, "not an ECS cluster ARN"},
		"no subnets":              {func(v map[string]any) { v["smoke_run"].(map[string]any)["subnets"] = []string{} }, "no subnets"},
		"bad sg":                  {func(v map[string]any) { v["quality_gate"].(map[string]any)["security_groups"] = []string{"default"} }, "not a subnet or security group"},
		"report uri":              {func(v map[string]any) { v["quality_gate"].(map[string]any)["report_uri"] = "gs://b/quality" }, "not an s3://"},
		"no services":             {func(v map[string]any) { v["dagster_services"].(map[string]any)["services"] = map[string]any{} }, "no services listed"},
		"run id var":              {func(v map[string]any) { v["quality_gate"].(map[string]any)["run_id_variable"] = "run id" }, "not an environment variable"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			raw := []byte("{")
			if tc.edit != nil {
				raw = outputsJSON(t, tc.edit)
			}
			_, err := ParseOutputs(raw)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseOutputsRefusesSensitiveTargets(t *testing.T) {
	raw := strings.Replace(string(outputsJSON(t, nil)), `"sensitive":false,"type":"dynamic","value":{"assign_public_ip":false,"cluster"`, `"sensitive":true,"type":"dynamic","value":{"assign_public_ip":false,"cluster"`, 1)
	_, err := ParseOutputs([]byte(raw))
	assert.ErrorContains(t, err, "marked sensitive")
}

func TestCheckReleaseNamesTheMismatch(t *testing.T) {
	o, err := ParseOutputs(outputsJSON(t, nil))
	require.NoError(t, err)
	err = o.CheckRelease(runtimeIm+"0", gateIm)
	assert.ErrorContains(t, err, "not the release's")
	assert.ErrorContains(t, err, "Dagster image")
	err = o.CheckRelease(runtimeIm, gateIm+"0")
	assert.ErrorContains(t, err, "gate task runs")
}

func TestValidRunID(t *testing.T) {
	for _, ok := range []string{"r1", "rel-abc.20261202_1"} {
		assert.NoError(t, ValidRunID(ok), ok)
	}
	for _, bad := range []string{"", "../x", "a/b", "-x", strings.Repeat("a", 129)} {
		assert.Error(t, ValidRunID(bad), bad)
	}
}
