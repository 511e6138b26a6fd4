package terraform

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// outputsJSON builds `terraform output -json` text from name → value
// (sensitive when the name is in sensitive).
func outputsJSON(t *testing.T, values map[string]any, sensitive ...string) []byte {
	t.Helper()
	out := map[string]outputValue{}
	for name, v := range values {
		out[name] = outputValue{Value: v, Sensitive: slices.Contains(sensitive, name)}
	}
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return b
}

func awsDagsterEnv() map[string]any {
	return map[string]any{
		"LAKEHOUSE_ENVIRONMENT":     "zzgamma",
		"ICEBERG_CATALOG_URI":       "https://internal-lakehouse-zzgamma-nessie-1.us-east-1.elb.amazonaws.com/iceberg/main",
		"ICEBERG_WAREHOUSE":         "s3://lakehouse-zzgamma-lakehouse/warehouse",
		"ICEBERG_CATALOG_WAREHOUSE": "warehouse",
		"LAKEHOUSE_S3_BUCKET":       "lakehouse-zzgamma-lakehouse",
		"AWS_REGION":                "us-east-1",
		"S3_PATH_STYLE":             "false",
		"ALERT_SNS_TOPIC_ARN":       "arn:aws:sns:us-east-1:123456789012:lakehouse-zzgamma-alerts",
	}
}

func TestRuntimeEnvReturnsTheDagsterEnvOutput(t *testing.T) {
	raw := outputsJSON(t, map[string]any{
		"dagster_env":            awsDagsterEnv(),
		"dagster_storage_secret": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1",
		"db_password":            "hunter2",
	}, "db_password")
	env, err := RuntimeEnv(raw)
	require.NoError(t, err)
	assert.Equal(t, "https://internal-lakehouse-zzgamma-nessie-1.us-east-1.elb.amazonaws.com/iceberg/main", env["ICEBERG_CATALOG_URI"])
	assert.Equal(t, "s3://lakehouse-zzgamma-lakehouse/warehouse", env["ICEBERG_WAREHOUSE"])
	assert.Equal(t, "lakehouse-zzgamma-lakehouse", env["LAKEHOUSE_S3_BUCKET"])
	assert.Equal(t, "us-east-1", env["AWS_REGION"])
	assert.Len(t, env, len(awsDagsterEnv()), "only dagster_env's values; other outputs stay out")
	for _, v := range env {
		assert.NotEqual(t, "hunter2", v)
	}
}

func TestRuntimeEnvOfGCPOutputs(t *testing.T) {
	env, err := RuntimeEnv(outputsJSON(t, map[string]any{"dagster_env": map[string]any{
		"LAKEHOUSE_ENVIRONMENT":     "zzomega",
		"ICEBERG_CATALOG_URI":       "https://lakehouse-zzomega-nessie-abc123-uc.a.run.app/iceberg/main",
		"ICEBERG_WAREHOUSE":         "gs://lakehouse-zzomega-lakehouse/warehouse",
		"ICEBERG_CATALOG_WAREHOUSE": "warehouse",
	}}))
	require.NoError(t, err)
	assert.Equal(t, "gs://lakehouse-zzomega-lakehouse/warehouse", env["ICEBERG_WAREHOUSE"])
	assert.NotContains(t, env, "AWS_REGION")
}

func TestRuntimeEnvRefusesWhatWouldBreakOrLeak(t *testing.T) {
	with := func(k string, v any) map[string]any {
		m := awsDagsterEnv()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		raw  []byte
		want string
	}{
		{"not output json", []byte("Error: no state"), "read terraform output -json"},
		{"no outputs (no state yet)", []byte("{}"), "have no dagster_env"},
		{"sensitive", outputsJSON(t, map[string]any{"dagster_env": awsDagsterEnv()}, "dagster_env"), "marked sensitive"},
		{"not a map", outputsJSON(t, map[string]any{"dagster_env": "x"}), "must be a map of strings"},
		{"secret key", outputsJSON(t, map[string]any{"dagster_env": with("DAGSTER_POSTGRES_PASSWORD", "x")}), "names a secret"},
		{"bad key", outputsJSON(t, map[string]any{"dagster_env": with("iceberg-uri", "x")}), "not an environment variable name"},
		{"non-string value", outputsJSON(t, map[string]any{"dagster_env": with("S3_PATH_STYLE", false)}), "must be a string"},
		{"no environment", outputsJSON(t, map[string]any{"dagster_env": with("LAKEHOUSE_ENVIRONMENT", nil)}), "no LAKEHOUSE_ENVIRONMENT"},
		{"bad environment", outputsJSON(t, map[string]any{"dagster_env": with("LAKEHOUSE_ENVIRONMENT", "Zzupper-1")}), "LAKEHOUSE_ENVIRONMENT"},
		{"no warehouse", outputsJSON(t, map[string]any{"dagster_env": with("ICEBERG_WAREHOUSE", "")}), "no ICEBERG_WAREHOUSE"},
		{"bare iceberg path", outputsJSON(t, map[string]any{"dagster_env": with("ICEBERG_CATALOG_URI", "https://nessie.example/iceberg")}), "must end in /iceberg/<branch>"},
		{"native api", outputsJSON(t, map[string]any{"dagster_env": with("ICEBERG_CATALOG_URI", "https://nessie.example/api/v2")}), "must end in /iceberg/<branch>"},
		{"trailing slash", outputsJSON(t, map[string]any{"dagster_env": with("ICEBERG_CATALOG_URI", "https://nessie.example/iceberg/main/")}), "must end in /iceberg/<branch>"},
		{"not http", outputsJSON(t, map[string]any{"dagster_env": with("ICEBERG_CATALOG_URI", "sqlite:///tmp/x.db")}), "not an http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RuntimeEnv(tc.raw)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRenderDotenvIsReadBackIdenticallyByTheSharedParser(t *testing.T) {
	vars := map[string]string{}
	for k, v := range awsDagsterEnv() {
		vars[k] = v.(string)
	}
	vars["ALERT_SNS_TOPIC_ARN"] = ""
	vars["NOTE"] = "two words $HOME #1"
	text, err := RenderDotenv(vars)
	require.NoError(t, err)
	assert.Contains(t, string(text), "ICEBERG_CATALOG_URI=https://internal-lakehouse-zzgamma-nessie-1.us-east-1.elb.amazonaws.com/iceberg/main\n")
	assert.Contains(t, string(text), "NOTE='two words $HOME #1'\n")
	assert.Contains(t, string(text), "ALERT_SNS_TOPIC_ARN=\n")
	back, err := environment.ParseDotenv("dagster/.env.zzgamma", text)
	require.NoError(t, err)
	assert.Equal(t, vars, back)
}

func TestRenderDotenvRefusesValuesWithoutALiteralForm(t *testing.T) {
	for _, v := range []string{"it's", `C:\path`, "two\nlines"} {
		_, err := RenderDotenv(map[string]string{"X": v})
		assert.Error(t, err, v)
	}
	_, err := RenderDotenv(map[string]string{"lower-case": "x"})
	assert.Error(t, err)
}

func TestRunningImagesKeepsWhatTheEnvironmentRuns(t *testing.T) {
	vars, err := RunningImages(outputsJSON(t, map[string]any{
		"dagster_image": testDigest,
		"gate_image":    nil,
		"bucket_name":   "lakehouse-zzalpha-lakehouse",
	}))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"dagster_image": testDigest}, vars)

	vars, err = RunningImages([]byte("{}"))
	require.NoError(t, err)
	assert.Empty(t, vars, "no state yet: nothing to keep, the release must bring its images")

	_, err = RunningImages(outputsJSON(t, map[string]any{"dagster_image": 42}))
	assert.Error(t, err)
}
