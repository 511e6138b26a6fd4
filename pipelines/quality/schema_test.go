package quality_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/quality"
)

// The samples are reports the gate wrote (dagster/tests/test_gate_samples.py
// makes them again and fails when they drift); the file name starts with the
// outcome.
var samples = []string{
	"pass.json",
	"pass-incremental.json",
	"warn.json",
	"fail.json",
	"fail-branch.json",
	"error-missing-table.json",
	"error-zero-checks.json",
	"error-unevaluated-check.json",
	"error-configuration.json",
}

func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join("..", "..", "dagster", "lakehouse", "quality", "gate_report.schema.json")
	sch, err := jsonschema.NewCompiler().Compile(path)
	require.NoError(t, err)
	return sch
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "reports", name))
	require.NoError(t, err)
	return raw
}

func validate(sch *jsonschema.Schema, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestEveryGateSampleIsValidForTheSchemaAndTheReader(t *testing.T) {
	sch := schema(t)
	found, err := filepath.Glob(filepath.Join("testdata", "reports", "*.json"))
	require.NoError(t, err)
	require.Len(t, found, len(samples), "every sample is listed in samples")
	for _, name := range samples {
		t.Run(name, func(t *testing.T) {
			raw := sample(t, name)
			require.NoError(t, validate(sch, raw), "the JSON Schema accepts what the gate wrote")
			r, err := quality.Parse(raw)
			require.NoError(t, err, "pipelines/quality accepts what the gate wrote")
			outcome, _, _ := strings.Cut(strings.TrimSuffix(name, ".json"), "-")
			assert.Equal(t, outcome, r.Outcome)
			assert.Equal(t, quality.SchemaVersion, r.SchemaVersion)
			assert.Equal(t, strings.HasSuffix(name, "-branch.json"), r.Branch != nil, "a gate of a branch names it, a gate of the published state none")
			for _, tb := range r.Tables {
				if tb.Error == nil {
					require.NotNil(t, tb.SnapshotID, "%s: every table the gate read names its snapshot", tb.Name)
				}
			}
		})
	}
}

// expectation is what the pipeline would expect when promoting the release
// the sample names, right after the gate finished.
func expectation(t *testing.T, r *quality.Report) quality.Expectation {
	t.Helper()
	require.NotNil(t, r.Release.Commit, "the samples are made for a release")
	finished, err := time.Parse(time.RFC3339, r.FinishedAt)
	require.NoError(t, err)
	return quality.Expectation{
		Environment:  r.Environment,
		Commit:       *r.Release.Commit,
		RuntimeImage: *r.Release.RuntimeImage,
		GateImage:    *r.Release.GateImage,
		MaxAge:       time.Hour,
		Now:          finished.Add(time.Minute),
	}
}

func TestThePolicyDecidesOnWhatTheGateWrote(t *testing.T) {
	cases := []struct {
		sample string
		change func(*quality.Expectation)
		kind   quality.Kind // "" promotes
	}{
		{sample: "pass.json"},
		{sample: "pass-incremental.json"},
		{sample: "warn.json"},
		{sample: "warn.json", change: func(e *quality.Expectation) { e.WarningsBlock = true }, kind: quality.WarningsBlock},
		{sample: "fail.json", kind: quality.Failed},
		{sample: "fail-branch.json", kind: quality.Failed},
		// A table the gate could not read has no evaluated check: the policy
		// says no-checks before it looks at the outcome.
		{sample: "error-missing-table.json", kind: quality.NoChecks},
		{sample: "error-zero-checks.json", kind: quality.NoChecks},
		{sample: "error-unevaluated-check.json", kind: quality.NoChecks},
		{sample: "error-configuration.json", kind: quality.Errored},
		{sample: "pass.json", change: func(e *quality.Expectation) { e.Commit = strings.Repeat("d", 40) }, kind: quality.OtherRelease},
		{sample: "pass.json", change: func(e *quality.Expectation) { e.GateImage += "0" }, kind: quality.OtherRelease},
		{sample: "pass.json", change: func(e *quality.Expectation) { e.Environment = "prod" }, kind: quality.OtherEnv},
	}
	for _, tc := range cases {
		name := tc.sample
		if tc.kind != "" {
			name += "/" + string(tc.kind)
		}
		t.Run(name, func(t *testing.T) {
			raw := sample(t, tc.sample)
			r, err := quality.Parse(raw)
			require.NoError(t, err)
			want := expectation(t, r)
			if tc.change != nil {
				tc.change(&want)
			}
			_, err = quality.Decide(raw, want)
			if tc.kind == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.kind, quality.KindOf(err), err.Error())
		})
	}
}

// The schema and the reader refuse the same broken reports, where the
// schema can express the rule (the reader also checks counts and derived
// outcomes the schema cannot).
func TestTheSchemaAndTheReaderRefuseTheSameBrokenReports(t *testing.T) {
	sch := schema(t)
	mutations := map[string]func(r map[string]any){
		"exit code of another outcome": func(r map[string]any) { r["exit_code"] = 1 },
		"schema version 1":             func(r map[string]any) { r["schema_version"] = 1 },
		"unknown field":                func(r map[string]any) { r["verdict"] = "pass" },
		"unknown mode":                 func(r map[string]any) { r["mode"] = "partial" },
		"no release":                   func(r map[string]any) { delete(r, "release") },
		"no base snapshot key":         func(r map[string]any) { delete(firstTable(r), "base_snapshot_id") },
		"snapshot id not a number":     func(r map[string]any) { firstTable(r)["snapshot_id"] = "latest" },
		"empty environment":            func(r map[string]any) { r["environment"] = "" },
		"the branch main":              func(r map[string]any) { r["branch"] = "main" },
		"a branch with a slash":        func(r map[string]any) { r["branch"] = "audit/x" },
		"a table without checks passes": func(r map[string]any) {
			firstTable(r)["checks"] = []any{}
		},
		"a table with an error passes": func(r map[string]any) { firstTable(r)["error"] = "unreadable" },
		"a check not evaluated passes": func(r map[string]any) {
			firstTable(r)["checks"].([]any)[0].(map[string]any)["outcome"] = "not_evaluated"
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			var r map[string]any
			require.NoError(t, json.Unmarshal(sample(t, "pass.json"), &r))
			mutate(r)
			raw, err := json.Marshal(r)
			require.NoError(t, err)
			assert.Error(t, validate(sch, raw), "the schema refuses it")
			_, err = quality.Parse(raw)
			assert.Error(t, err, "the reader refuses it")
		})
	}
}

func firstTable(r map[string]any) map[string]any {
	return r["tables"].([]any)[0].(map[string]any)
}
