package promotion

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/quality"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// envs is a three-step promotion order a1 → b2 → c3; c3 allows gate
// warnings and 24 h old evidence.
func envs(t testing.TB) map[string]environment.Env {
	t.Helper()
	tfvars := func(env, up string, extra string) []byte {
		return []byte(fmt.Sprintf("project_name = \"lakehouse\"\nenvironment = %q\ncloud_provider = \"aws\"\npromotion_upstream = %q\n%s\n", env, up, extra))
	}
	c, err := environment.NewCatalog(map[string][]byte{
		"environments/a1.tfvars": tfvars("a1", "", ""),
		"environments/b2.tfvars": tfvars("b2", "a1", ""),
		"environments/c3.tfvars": tfvars("c3", "b2", "promotion_warnings_block = false\npromotion_max_evidence_age_hours = 24"),
	})
	require.NoError(t, err)
	out := map[string]environment.Env{}
	for _, e := range c.Envs() {
		out[e.Name()] = e
	}
	return out
}

func record(t testing.TB, commitChar, runtimeChar byte, dirty bool) release.Record {
	t.Helper()
	id, err := release.NewIdentity(strings.Repeat(string(commitChar), 40), dirty, now.Add(-48*time.Hour), "")
	require.NoError(t, err)
	r, err := release.NewRecord(id,
		"registry.example/lakehouse@sha256:"+strings.Repeat(string(runtimeChar), 64),
		"registry.example/lakehouse@sha256:"+strings.Repeat("9", 64), nil, now.Add(-47*time.Hour))
	require.NoError(t, err)
	return r
}

// gateReport is a schema-2 report of env for rel with the given outcome.
func gateReport(env string, rel release.Record, outcome string, finished time.Time) json.RawMessage {
	checkOutcome, code := outcome, map[string]int{"pass": 0, "warn": 2, "fail": 1}[outcome]
	summary := map[string]int{"tables": 1, "tables_with_errors": 0, "checks": 1, "pass": 0, "warn": 0, "fail": 0, "not_evaluated": 0}
	summary[checkOutcome] = 1
	r := map[string]any{
		"schema_version": 2, "environment": env, "access_level": "reader", "outcome": outcome, "exit_code": code,
		"started_at": finished.Add(-time.Minute).Format(time.RFC3339), "finished_at": finished.Format(time.RFC3339), "mode": "full",
		"release": map[string]any{"commit": rel.Commit, "runtime_image": rel.RuntimeImage, "gate_image": rel.GateImage},
		"catalog": map[string]any{}, "tool_versions": map[string]any{"lakehouse-gate": "2", "python": "3.11"},
		"summary": summary,
		"tables": []any{map[string]any{"name": "event_stream", "checks_file": "x.yaml", "outcome": outcome, "mode": "full", "row_count": 1,
			"snapshot_id": "1", "base_snapshot_id": nil, "error": nil,
			"checks": []any{map[string]any{"name": "rows", "outcome": checkOutcome, "measured_value": 1, "column": nil, "definition": nil}}}},
		"errors": []any{},
	}
	raw, _ := json.Marshal(r)
	return raw
}

func entry(env string, rel release.Record, verdict Verdict, outcome string, finished time.Time) Entry {
	e := Entry{SchemaVersion: EntrySchemaVersion, Kind: DeployEntry, Environment: env, Release: rel, Verdict: verdict, RecordedAt: finished.Format(time.RFC3339)}
	if verdict == Failed {
		e.Reason = "smoke materialization failed"
	}
	if outcome != "" {
		e.Gate = &GateEvidence{Outcome: outcome, FinishedAt: finished.Format(time.RFC3339), Report: gateReport(env, rel, outcome, finished)}
	}
	return e
}

func ledger(entries ...Entry) []Recorded {
	out := make([]Recorded, len(entries))
	for i, e := range entries {
		out[i] = Recorded{Seq: i + 1, Key: fmt.Sprintf("iceberg-lakehouse/%s/releases/%06d.json", e.Environment, i+1), Entry: e}
	}
	return out
}

func TestTheFirstEnvironmentNeedsNoEvidence(t *testing.T) {
	d, err := Decide(Request{Target: envs(t)["a1"], Release: record(t, 'c', 'a', false), Now: now}, nil)
	require.NoError(t, err)
	assert.Nil(t, d.Upstream)
}

func TestAReleaseThatPassedUpstreamPromotes(t *testing.T) {
	rel := record(t, 'c', 'a', false)
	other := record(t, 'd', 'b', false)
	d, err := Decide(Request{Target: envs(t)["b2"], Release: rel, Now: now}, ledger(
		entry("a1", other, Passed, "pass", now.Add(-3*time.Hour)),
		entry("a1", rel, Passed, "pass", now.Add(-2*time.Hour)),
	))
	require.NoError(t, err)
	require.NotNil(t, d.Upstream)
	assert.Equal(t, 2, d.Upstream.Seq)
}

func TestEveryRefusalSaysWhatIsMissingAndHowToGetIt(t *testing.T) {
	rel := record(t, 'c', 'a', false)
	rebuilt := record(t, 'c', 'e', false)
	other := record(t, 'd', 'b', false)
	e := envs(t)
	cases := []struct {
		name     string
		target   string
		rel      release.Record
		upstream []Recorded
		kind     Kind
		gate     quality.Kind
		says     []string
	}{
		{"no evidence", "b2", rel, nil, NoEvidence, "", []string{"a1 has no release on record", "deploy --env a1"}},
		{"other commit", "b2", rel, ledger(entry("a1", other, Passed, "pass", now)), OtherCommit, "", []string{"no record of commit " + rel.Commit, "promote --from a1 --to b2"}},
		{"other digest (a rebuild)", "b2", rel, ledger(entry("a1", rebuilt, Passed, "pass", now)), OtherDigest, "", []string{"other images", "never rebuilds"}},
		{"other environment", "b2", rel, ledger(entry("c3", rel, Passed, "pass", now)), OtherEnv, "", []string{"from environment c3", "promotes from a1"}},
		{"failed upstream", "b2", rel, ledger(entry("a1", rel, Failed, "", now)), FailedUp, "", []string{"failed in a1", "smoke materialization failed"}},
		{"revoked", "b2", rel, ledger(entry("a1", rel, Passed, "pass", now.Add(-time.Hour)), entry("a1", rel, Failed, "fail", now)), Revoked, "", []string{"revoked"}},
		{"gate warned where warnings block", "b2", rel, ledger(entry("a1", rel, Passed, "warn", now)), GateRefused, quality.WarningsBlock, []string{"blocks on warnings"}},
		{"stale evidence", "c3", rel, ledger(entry("b2", rel, Passed, "pass", now.Add(-25*time.Hour))), GateRefused, quality.Stale, []string{"older than the 24h0m0s"}},
		{"dirty release", "a1", record(t, 'c', 'a', true), nil, DirtyRelease, "", []string{"uncommitted changes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decide(Request{Target: e[tc.target], Release: tc.rel, Now: now}, tc.upstream)
			require.Error(t, err)
			assert.Equal(t, tc.kind, KindOf(err), err.Error())
			if tc.gate != "" {
				var r *Refusal
				require.ErrorAs(t, err, &r)
				assert.Equal(t, tc.gate, r.Gate)
			}
			for _, s := range tc.says {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestWarningsPromoteWhereTheTargetAllowsThem(t *testing.T) {
	rel := record(t, 'c', 'a', false)
	_, err := Decide(Request{Target: envs(t)["c3"], Release: rel, Now: now}, ledger(entry("b2", rel, Passed, "warn", now)))
	require.NoError(t, err)
}

func TestLatestIsTheNewestPassThatWasNotRevoked(t *testing.T) {
	a, b := record(t, 'c', 'a', false), record(t, 'd', 'b', false)
	got, err := Latest(ledger(entry("a1", a, Passed, "pass", now), entry("a1", b, Passed, "pass", now), entry("a1", b, Failed, "", now)))
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.Entry.Release.ID, "b was revoked by its later failure")
	_, err = Latest(ledger(entry("a1", b, Failed, "", now)))
	assert.Equal(t, NoEvidence, KindOf(err))
}

func TestMalformedEntriesRefuseTheWholeEvidence(t *testing.T) {
	rel := record(t, 'c', 'a', false)
	good, err := entry("a1", rel, Passed, "pass", now).JSON()
	require.NoError(t, err)
	edited := strings.Replace(string(good), rel.RuntimeImage, "registry.example/lakehouse@sha256:"+strings.Repeat("0", 64), 1)
	for name, body := range map[string]string{
		"not JSON":               "{",
		"unknown field":          `{"schema_version":1,"verdict":"passed","sneaky":true}`,
		"edited release digests": edited,
		"passed without gate":    strings.Replace(string(good), `"gate": {`, `"gate": null, "x": {`, 1),
	} {
		_, err := ParseEntries([]RawEntry{{Seq: 1, Key: "k1", Body: []byte(body)}})
		require.Error(t, err, name)
		assert.Equal(t, Malformed, KindOf(err), name)
	}
	parsed, err := ParseEntries([]RawEntry{{Seq: 1, Key: "k1", Body: good}})
	require.NoError(t, err)
	assert.Equal(t, rel.ID, parsed[0].Entry.Release.ID)
}

// No byte string admits a release unless it is a valid entry of the
// upstream environment showing that very release passed a fresh gate.
func FuzzEvidenceNeverAdmitsWhatIsNotAPass(f *testing.F) {
	rel := record(f, 'c', 'a', false)
	good, _ := entry("a1", rel, Passed, "pass", now).JSON()
	f.Add(good)
	warn, _ := entry("a1", rel, Passed, "warn", now).JSON()
	f.Add(warn)
	failed, _ := entry("a1", rel, Failed, "", now).JSON()
	f.Add(failed)
	rolledBackTo, _ := rollbackEntry("a1", rel, record(f, 'd', 'b', false), now).JSON()
	f.Add(rolledBackTo)
	v1 := strings.Replace(strings.Replace(string(good), `"schema_version": 2`, `"schema_version": 1`, 1), `"kind": "deploy",`, "", 1)
	f.Add([]byte(v1))
	target := envs(f)["b2"]
	f.Fuzz(func(t *testing.T, raw []byte) {
		entries, err := ParseEntries([]RawEntry{{Seq: 1, Key: "k", Body: raw}})
		if err != nil {
			return
		}
		d, err := Decide(Request{Target: target, Release: rel, Now: now}, entries)
		if err != nil {
			require.NotEmpty(t, KindOf(err))
			return
		}
		e := d.Upstream.Entry
		require.Equal(t, DeployEntry, e.Kind, "never admitted on a rollback")
		require.Equal(t, Passed, e.Verdict)
		require.Equal(t, "a1", e.Environment)
		require.Equal(t, rel.Commit, e.Release.Commit)
		require.Equal(t, rel.RuntimeImage, e.Release.RuntimeImage)
		require.Equal(t, rel.GateImage, e.Release.GateImage)
		r, err := quality.Parse(e.Gate.Report)
		require.NoError(t, err)
		require.Equal(t, quality.Pass, r.Outcome)
	})
}
