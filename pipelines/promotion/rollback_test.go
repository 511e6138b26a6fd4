package promotion

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// rollbackEntry records env rolled back from replaced to rel, one table moved.
func rollbackEntry(env string, rel, replaced release.Record, at time.Time) Entry {
	return Entry{
		SchemaVersion: EntrySchemaVersion, Kind: RollbackEntry, Environment: env, Release: rel, Verdict: Passed,
		Gate: &GateEvidence{Outcome: "pass", FinishedAt: at.Format(time.RFC3339), Report: gateReport(env, rel, "pass", at)},
		Rollback: &Rollback{Replaced: replaced, By: "on-call@example.com", Reason: "event_stream lost rows",
			Tables: []TableRollback{{Table: "event_stream", FromSnapshot: "8812", ToSnapshot: "7301"}}},
		RecordedAt: at.Format(time.RFC3339),
	}
}

func TestARollbackEntryRecordsWhatMovedAndWhy(t *testing.T) {
	old, bad := record(t, 'c', 'a', false), record(t, 'd', 'b', false)
	raw, err := rollbackEntry("a1", old, bad, now).JSON()
	require.NoError(t, err)
	e, err := ParseEntry(raw)
	require.NoError(t, err)
	assert.Equal(t, RollbackEntry, e.Kind)
	assert.Equal(t, old.ID, e.Release.ID, "the release rolled back to")
	assert.Equal(t, bad.ID, e.Rollback.Replaced.ID, "the release it replaced")
	assert.Equal(t, []TableRollback{{Table: "event_stream", FromSnapshot: "8812", ToSnapshot: "7301"}}, e.Rollback.Tables)
	assert.Equal(t, "on-call@example.com", e.Rollback.By)
	assert.Equal(t, "event_stream lost rows", e.Rollback.Reason)

	edit := func(f func(*Entry)) string {
		e := rollbackEntry("a1", old, bad, now)
		f(&e)
		raw, err := json.Marshal(e) // JSON() refuses to render a malformed entry
		require.NoError(t, err)
		return string(raw)
	}
	for name, tc := range map[string]struct{ body, says string }{
		"no record":            {edit(func(e *Entry) { e.Rollback = nil }), "without its rollback record"},
		"no reason":            {edit(func(e *Entry) { e.Rollback.Reason = "" }), "without a reason"},
		"to itself":            {edit(func(e *Entry) { e.Rollback.Replaced = old }), "to itself"},
		"same snapshot":        {edit(func(e *Entry) { e.Rollback.Tables[0].ToSnapshot = "8812" }), "moves from snapshot 8812 to itself"},
		"table twice":          {edit(func(e *Entry) { e.Rollback.Tables = append(e.Rollback.Tables, e.Rollback.Tables[0]) }), "names event_stream twice"},
		"missing snapshot":     {edit(func(e *Entry) { e.Rollback.Tables[0].FromSnapshot = "" }), "needs table, from_snapshot and to_snapshot"},
		"upstream evidence":    {edit(func(e *Entry) { e.Upstream = &UpstreamRef{Environment: "x", Seq: 1} }), "admitted on none"},
		"replaced tampered":    {strings.Replace(edit(func(*Entry) {}), bad.RuntimeImage, "registry.example/lakehouse@sha256:"+strings.Repeat("0", 64), 1), "rollback.replaced"},
		"deploy with rollback": {edit(func(e *Entry) { e.Kind = DeployEntry }), "a deploy entry with a rollback record"},
		"unknown kind":         {edit(func(e *Entry) { e.Kind = "restore" }), `kind "restore" is not deploy or rollback`},
		"schema 1 with a kind": {edit(func(e *Entry) { e.SchemaVersion = 1 }), "came with schema 2"},
		"schema 3":             {edit(func(e *Entry) { e.SchemaVersion = 3 }), "schema_version 3 is not supported (expected 1 or 2)"},
	} {
		_, err := ParseEntry([]byte(tc.body))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.says, name)
	}
}

// Promotion never admits a release on a rollback entry; a rollback away
// from a release revokes its pass; what it rolled back to keeps its own.
func TestPromotionNeverAdmitsFromARollback(t *testing.T) {
	old, bad := record(t, 'c', 'a', false), record(t, 'd', 'b', false)
	target := envs(t)["b2"]

	_, err := Decide(Request{Target: target, Release: old, Now: now}, ledger(rollbackEntry("a1", old, bad, now)))
	assert.Equal(t, NoEvidence, KindOf(err), "a passing rollback to a release is no pass of it")
	assert.Contains(t, err.Error(), "a1 runs release "+old.ID+" again since a rollback (entry 1), which is no evidence of a pass")

	_, err = Decide(Request{Target: target, Release: bad, Now: now}, ledger(
		entry("a1", bad, Passed, "pass", now.Add(-2*time.Hour)),
		rollbackEntry("a1", old, bad, now.Add(-time.Hour)),
	))
	assert.Equal(t, RolledBack, KindOf(err))
	assert.Contains(t, err.Error(), "release "+bad.ID+" was rolled back in a1 (entry 2, by on-call@example.com: event_stream lost rows): it does not promote")

	history := ledger(
		entry("a1", old, Passed, "pass", now.Add(-3*time.Hour)),
		entry("a1", bad, Passed, "pass", now.Add(-2*time.Hour)),
		rollbackEntry("a1", old, bad, now.Add(-time.Hour)),
	)
	d, err := Decide(Request{Target: target, Release: old, Now: now}, history)
	require.NoError(t, err)
	assert.Equal(t, 1, d.Upstream.Seq, "admitted on its own pass, not the rollback")

	latest, err := Latest(history)
	require.NoError(t, err)
	assert.Equal(t, old.ID, latest.Entry.Release.ID, "promote --from takes what the rollback left, by its own pass")
	assert.Equal(t, 1, latest.Seq)

	_, err = Latest(ledger(entry("a1", bad, Passed, "pass", now), rollbackEntry("a1", old, bad, now)))
	assert.Equal(t, NoEvidence, KindOf(err), "nothing passed and stayed passed")
}

// Entries written before kinds existed still read, as deploys.
func TestAVersion1EntryReadsAsADeploy(t *testing.T) {
	rel := record(t, 'c', 'a', false)
	e := entry("a1", rel, Passed, "pass", now)
	e.SchemaVersion, e.Kind = 1, ""
	raw, err := e.JSON()
	require.NoError(t, err)
	require.NotContains(t, string(raw), `"kind"`)
	parsed, err := ParseEntries([]RawEntry{{Seq: 1, Key: "k", Body: raw}})
	require.NoError(t, err)
	assert.Equal(t, DeployEntry, parsed[0].Entry.Kind)
	_, err = Decide(Request{Target: envs(t)["b2"], Release: rel, Now: now}, parsed)
	require.NoError(t, err)
}

// The ledger is append-only: an entry that would not read back (and so
// would refuse all its environment's evidence) is never rendered.
func TestAnEntryThatWouldNotReadBackIsNeverRendered(t *testing.T) {
	e := entry("a1", record(t, 'c', 'a', false), Passed, "pass", now)
	e.Kind = ""
	_, err := e.JSON()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `refusing to record a ledger entry that would not read back: ledger entry: kind "" is not deploy or rollback`)
	e.Kind, e.Gate = DeployEntry, nil
	_, err = e.JSON()
	assert.ErrorContains(t, err, "verdict passed without gate evidence")
}
