package quality

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	now        = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	commit     = strings.Repeat("c", 40)
	runtimeImg = "registry.example/lakehouse@sha256:" + strings.Repeat("a", 64)
	gateImg    = "registry.example/lakehouse@sha256:" + strings.Repeat("b", 64)
)

func expect() Expectation {
	return Expectation{Environment: "e1", Commit: commit, RuntimeImage: runtimeImg, GateImage: gateImg, WarningsBlock: true, MaxAge: 24 * time.Hour, Now: now}
}

// passing is a valid schema-2 report that promotes under expect().
func passing() map[string]any {
	check := func(name, outcome string) map[string]any {
		return map[string]any{"name": name, "outcome": outcome, "measured_value": 0, "column": nil, "definition": "x"}
	}
	table := func(name string) map[string]any {
		return map[string]any{
			"name": name, "checks_file": "lakehouse/quality/soda_checks/" + name + "_checks.yaml", "outcome": "pass",
			"mode": "full", "row_count": 10, "snapshot_id": "4358109269873137077", "base_snapshot_id": nil, "error": nil,
			"checks": []any{check(name+" has rows", "pass"), check(name+" keys unique", "pass")},
		}
	}
	return map[string]any{
		"schema_version": 2, "environment": "e1", "access_level": "reader", "outcome": "pass", "exit_code": 0,
		"started_at": "2026-12-01T11:00:00Z", "finished_at": "2026-12-01T11:05:00Z", "mode": "full",
		"release":       map[string]any{"commit": commit, "runtime_image": runtimeImg, "gate_image": gateImg},
		"catalog":       map[string]any{"type": "rest", "uri": "http://nessie:19120/iceberg/main"},
		"tool_versions": map[string]any{"lakehouse-gate": "2.0.0", "python": "3.11.16"},
		"summary":       map[string]any{"tables": 2, "tables_with_errors": 0, "checks": 4, "pass": 4, "warn": 0, "fail": 0, "not_evaluated": 0},
		"tables":        []any{table("event_stream"), table("customer_dim")},
		"errors":        []any{},
	}
}

func render(t testing.TB, r map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	return raw
}

func tables(r map[string]any) []any { return r["tables"].([]any) }
func firstTable(r map[string]any) map[string]any {
	return tables(r)[0].(map[string]any)
}
func firstCheck(r map[string]any) map[string]any {
	return firstTable(r)["checks"].([]any)[0].(map[string]any)
}

// setOutcome marks the first check and everything above it consistently.
func setOutcome(r map[string]any, outcome string, code int) {
	firstCheck(r)["outcome"] = outcome
	firstTable(r)["outcome"] = outcome
	r["outcome"], r["exit_code"] = outcome, code
	s := r["summary"].(map[string]any)
	s["pass"] = 3
	s[outcome] = 1
}

func TestAValidPassingReportPromotes(t *testing.T) {
	r, err := Decide(render(t, passing()), expect())
	require.NoError(t, err)
	assert.Equal(t, Pass, r.Outcome)
	assert.Equal(t, "4358109269873137077", *r.Tables[0].SnapshotID)
}

func TestEveryRefusalHasItsOwnKindAndMessage(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(r map[string]any)
		raw    []byte
		want   Expectation
		kind   Kind
		says   string
	}{
		{name: "missing file", raw: []byte{}, kind: Missing, says: "empty"},
		{name: "not JSON", raw: []byte("<html>502 Bad Gateway</html>"), kind: Unparsable, says: "not JSON"},
		{name: "schema 1", mutate: func(r map[string]any) { r["schema_version"] = 1 }, kind: UnknownSchema, says: "schema_version 1"},
		{name: "no schema version", mutate: func(r map[string]any) { delete(r, "schema_version") }, kind: UnknownSchema, says: "(missing)"},
		{name: "unknown field", mutate: func(r map[string]any) { r["verdict"] = "pass" }, kind: Malformed, says: "unknown field"},
		{name: "missing tables key", mutate: func(r map[string]any) { delete(r, "tables") }, kind: Malformed, says: "lacks [tables]"},
		{name: "missing snapshot key", mutate: func(r map[string]any) { delete(firstTable(r), "snapshot_id") }, kind: Malformed, says: "lacks [snapshot_id]"},
		{name: "says pass but a check failed", mutate: func(r map[string]any) { firstCheck(r)["outcome"] = "fail" }, kind: Malformed, says: "says pass but its checks make it fail"},
		{name: "exit code disagrees", mutate: func(r map[string]any) { r["exit_code"] = 1 }, kind: Malformed, says: "exit_code 1"},
		{name: "summary lies", mutate: func(r map[string]any) { r["summary"].(map[string]any)["checks"] = 9 }, kind: Malformed, says: "summary"},
		{name: "another environment", mutate: func(r map[string]any) { r["environment"] = "e0" }, kind: OtherEnv, says: "environment e0, not e1"},
		{name: "another commit", mutate: func(r map[string]any) { r["release"].(map[string]any)["commit"] = strings.Repeat("d", 40) }, kind: OtherRelease, says: "judged commit"},
		{name: "another runtime image", mutate: func(r map[string]any) {
			r["release"].(map[string]any)["runtime_image"] = "registry.example/lakehouse@sha256:" + strings.Repeat("e", 64)
		}, kind: OtherRelease, says: "judged runtime image"},
		{name: "no release in the report", mutate: func(r map[string]any) { r["release"].(map[string]any)["gate_image"] = nil }, kind: OtherRelease, says: "names no gate image"},
		{name: "zero evaluated checks", mutate: func(r map[string]any) {
			for _, c := range firstTable(r)["checks"].([]any) {
				c.(map[string]any)["outcome"] = "not_evaluated"
			}
			firstTable(r)["outcome"], r["outcome"], r["exit_code"] = "error", "error", 3
			s := r["summary"].(map[string]any)
			s["pass"], s["not_evaluated"], s["tables_with_errors"] = 2, 2, 1
		}, kind: NoChecks, says: "no check was evaluated on event_stream"},
		{name: "error outcome", mutate: func(r map[string]any) {
			msg := "table lakehouse.event_stream does not exist"
			firstTable(r)["error"] = msg
			firstTable(r)["outcome"], r["outcome"], r["exit_code"] = "error", "error", 3
			r["summary"].(map[string]any)["tables_with_errors"] = 1
		}, kind: Errored, says: "does not exist"},
		{name: "fail outcome", mutate: func(r map[string]any) { setOutcome(r, "fail", 1) }, kind: Failed, says: "event_stream has rows"},
		{name: "warn where warnings block", mutate: func(r map[string]any) { setOutcome(r, "warn", 2) }, kind: WarningsBlock, says: "blocks on warnings"},
		{name: "stale", mutate: func(r map[string]any) {
			r["started_at"], r["finished_at"] = "2026-11-29T11:00:00Z", "2026-11-29T11:05:00Z"
		}, kind: Stale, says: "older than the 24h0m0s"},
		{name: "from the future", mutate: func(r map[string]any) { r["finished_at"] = "2026-12-01T14:00:00Z" }, kind: FromTheFuture, says: "clock"},
		{name: "no tables", mutate: func(r map[string]any) {
			r["tables"] = []any{}
			r["outcome"], r["exit_code"] = "error", 3
			r["summary"] = map[string]any{"tables": 0, "tables_with_errors": 0, "checks": 0, "pass": 0, "warn": 0, "fail": 0, "not_evaluated": 0}
		}, kind: Errored, says: "no table was scanned"},
	}
	seen := map[Kind]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw
			if tc.mutate != nil {
				r := passing()
				tc.mutate(r)
				raw = render(t, r)
			}
			want := expect()
			if tc.want.Environment != "" {
				want = tc.want
			}
			_, err := Decide(raw, want)
			require.Error(t, err)
			assert.Equal(t, tc.kind, KindOf(err), err.Error())
			assert.Contains(t, err.Error(), tc.says)
			seen[tc.kind] = true
		})
	}
	assert.Len(t, seen, 12, "every kind is exercised")
}

func TestWarningsPromoteWhereThePolicyAllowsThem(t *testing.T) {
	r := passing()
	setOutcome(r, "warn", 2)
	want := expect()
	want.WarningsBlock = false
	_, err := Decide(render(t, r), want)
	require.NoError(t, err)
}

// No byte string is accepted as a pass unless it is a valid passing report
// for the expected environment and release.
func FuzzDecideNeverPassesWhatIsNotAValidPassingReport(f *testing.F) {
	f.Add(render(f, passing()))
	warn := passing()
	setOutcome(warn, "warn", 2)
	f.Add(render(f, warn))
	f.Add([]byte(`{"schema_version":2}`))
	f.Add([]byte(`{"schema_version":2,"outcome":"pass","environment":"e1"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Decide(raw, expect())
		if err != nil {
			require.NotEmpty(t, KindOf(err), "every refusal has a kind: %v", err)
			return
		}
		// Accepted: it must be a passing report of this environment and
		// release whose every table passed with evaluated checks.
		require.Equal(t, Pass, r.Outcome)
		require.Equal(t, "e1", r.Environment)
		require.Empty(t, r.Errors)
		require.NotEmpty(t, r.Tables)
		require.Equal(t, commit, *r.Release.Commit)
		require.Equal(t, runtimeImg, *r.Release.RuntimeImage)
		require.Equal(t, gateImg, *r.Release.GateImage)
		for _, tb := range r.Tables {
			require.Nil(t, tb.Error)
			require.NotEmpty(t, tb.Checks)
			for _, c := range tb.Checks {
				require.Equal(t, Pass, c.Outcome)
			}
		}
		var generic map[string]any
		require.NoError(t, json.Unmarshal(raw, &generic), "an accepted report is a JSON object")
	})
}

func TestScanModeAndBaseSnapshotAgree(t *testing.T) {
	r := passing()
	firstTable(r)["base_snapshot_id"] = "12"
	_, err := Decide(render(t, r), expect())
	require.Error(t, err)
	assert.Equal(t, Malformed, KindOf(err))
	assert.Contains(t, err.Error(), "full scans none")

	r = passing()
	firstTable(r)["mode"], firstTable(r)["base_snapshot_id"] = "incremental", "12"
	_, err = Decide(render(t, r), expect())
	require.ErrorContains(t, err, "read incrementally but the report's mode is full")
}
