package promotion

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// published is a passing deploy of rel in a1 whose audit published snaps.
func published(rel release.Record, snaps map[string]string) Entry {
	e := entry("a1", rel, Passed, "pass", now)
	e.Audit = &Audit{Branch: "audit-" + rel.ID, Backend: "nessie", Base: map[string]string{"event_stream": "1"}, Judged: snaps, Published: snaps, Method: "nessie-merge", BranchFate: BranchPublished}
	return e
}

func rolledBack(to, from release.Record, movedFrom, restored map[string]string) Entry {
	e := rollbackEntry("a1", to, from, now)
	e.Rollback.MovedFrom = movedFrom
	e.Rollback.Tables = nil
	for t, s := range restored {
		e.Rollback.Tables = append(e.Rollback.Tables, TableRollback{Table: t, FromSnapshot: movedFrom[t], ToSnapshot: s})
	}
	return e
}

func TestRollbackDefaultsToTheLastEarlierReleaseThatPassedAndStayedPassed(t *testing.T) {
	r1, r2, r3, r4 := record(t, 'a', 'a', false), record(t, 'b', 'b', false), record(t, 'c', 'c', false), record(t, 'd', 'd', false)
	s := func(id string) map[string]string { return map[string]string{"event_stream": id} }
	for name, tc := range map[string]struct {
		ledger []Recorded
		want   release.Record
		snaps  map[string]string
	}{
		"the one before":                                     {ledger(published(r1, s("10")), published(r2, s("20"))), r1, s("10")},
		"skips a failed one":                                 {ledger(published(r1, s("10")), entry("a1", r2, Failed, "fail", now), published(r3, s("30"))), r1, s("10")},
		"skips a revoked one":                                {ledger(published(r1, s("10")), published(r2, s("20")), entry("a1", r2, Failed, "fail", now), published(r3, s("30"))), r1, s("10")},
		"skips one a rollback replaced":                      {ledger(published(r1, s("10")), published(r2, s("20")), rolledBack(r1, r2, s("20"), s("10")), published(r3, s("30"))), r1, s("10")},
		"the current one re-verified later is still current": {ledger(published(r1, s("10")), published(r2, s("20")), published(r3, s("30")), published(r2, s("21"))), r3, s("30")},
		"after a failed deploy of a new one, the last pass":  {ledger(published(r1, s("10")), published(r2, s("20")), entry("a1", r4, Failed, "fail", now)), r2, s("20")},
	} {
		rt, err := ChooseRollback("a1", tc.ledger, "")
		require.NoError(t, err, name)
		assert.Equal(t, tc.want.ID, rt.Target.Entry.Release.ID, name)
		assert.Equal(t, tc.snaps, rt.Snapshots, name)
		assert.Equal(t, tc.ledger[len(tc.ledger)-1].Entry.Release.ID, rt.Current.ID, name)
		assert.False(t, rt.Forward, name)
	}
}

func TestRollbackRefusesWhatItCannotRestore(t *testing.T) {
	r1, r2, r3 := record(t, 'a', 'a', false), record(t, 'b', 'b', false), record(t, 'c', 'c', false)
	s := map[string]string{"event_stream": "10"}
	for name, tc := range map[string]struct {
		ledger []Recorded
		to     string
		says   string
	}{
		"empty ledger":       {nil, "", "a1 has no release on record"},
		"only the current":   {ledger(published(r1, s)), "", "no earlier release that passed there and was not revoked"},
		"to the current":     {ledger(published(r1, s), published(r2, s)), r2.ID, "already runs release " + r2.ID},
		"never deployed":     {ledger(published(r1, s), published(r2, s)), r3.ID, "release " + r3.ID + " was never deployed to a1"},
		"failed there":       {ledger(entry("a1", r1, Failed, "fail", now), published(r2, s)), r1.ID, "release " + r1.ID + " failed in a1 (entry 1"},
		"before WAP":         {ledger(entry("a1", r1, Passed, "pass", now), published(r2, s)), "", "recorded no published snapshots"},
		"rollback, no moved": {ledger(published(r1, s), published(r2, s), rolledBack(r1, r2, nil, s)), r2.ID, "recorded no moved_from"},
	} {
		_, err := ChooseRollback("a1", tc.ledger, tc.to)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.says, name)
	}
}

// A second rollback moves forward again: to the release the first one
// replaced, with the snapshots the first one moved away from (data written
// after the target is not lost).
func TestASecondRollbackMovesForwardToWhatTheFirstMovedFrom(t *testing.T) {
	r1, r2 := record(t, 'a', 'a', false), record(t, 'b', 'b', false)
	l := ledger(
		published(r1, map[string]string{"event_stream": "10", "orders": "5"}),
		published(r2, map[string]string{"event_stream": "20", "orders": "5"}),
		rolledBack(r1, r2, map[string]string{"event_stream": "27", "orders": "6"}, map[string]string{"event_stream": "10", "orders": "5"}),
	)
	rt, err := ChooseRollback("a1", l, r2.ID)
	require.NoError(t, err)
	assert.True(t, rt.Forward)
	assert.Equal(t, r2.ID, rt.Target.Entry.Release.ID)
	assert.Equal(t, r1.ID, rt.Current.ID)
	assert.Equal(t, map[string]string{"event_stream": "27", "orders": "6"}, rt.Snapshots, "what the rollback moved from, newer than r2's publish")

	// Without --to, the default is not the replaced (revoked) release.
	_, err = ChooseRollback("a1", l, "")
	assert.ErrorContains(t, err, "no earlier release")
}

func TestARollbackNeedsConfirmationWhereTheEnvironmentAsksForApproval(t *testing.T) {
	err := NeedsConfirmation(true, false)
	assert.Equal(t, Unconfirmed, KindOf(err))
	assert.Contains(t, err.Error(), "--confirm")
	assert.NoError(t, NeedsConfirmation(true, true))
	assert.NoError(t, NeedsConfirmation(false, false))
}

func TestAnAuditRecordSaysWhatWasPublishedOnlyForAPass(t *testing.T) {
	r1 := record(t, 'a', 'a', false)
	e := published(r1, map[string]string{"event_stream": "-42"})
	raw, err := e.JSON()
	require.NoError(t, err)
	back, err := ParseEntry(raw)
	require.NoError(t, err)
	assert.Equal(t, e.Audit, back.Audit)

	edit := func(f func(*Entry)) []byte {
		e := published(r1, map[string]string{"event_stream": "42"})
		f(&e)
		raw, _ := json.Marshal(e)
		return raw
	}
	failedPublished := func(e *Entry) { e.Verdict, e.Reason = Failed, "gate failed" }
	for name, tc := range map[string]struct {
		body []byte
		says string
	}{
		"pass not published": {edit(func(e *Entry) { e.Audit.Published, e.Audit.BranchFate = nil, BranchDiscarded }), "a pass whose data was not published"},
		"fail published":     {edit(failedPublished), "a failed verification that published data"},
		"no branch":          {edit(func(e *Entry) { e.Audit.Branch = "" }), "audit: no branch"},
		"unknown fate":       {edit(func(e *Entry) { e.Audit.BranchFate = "lost" }), `branch_fate "lost"`},
		"not a snapshot":     {edit(func(e *Entry) { e.Audit.Published = map[string]string{"event_stream": "1.5"} }), `published: table "event_stream": "1.5"`},
		"rollback publishing": {func() []byte {
			e := rollbackEntry("a1", r1, record(t, 'b', 'b', false), now)
			e.Audit = &Audit{Branch: "x", BranchFate: BranchPublished, Published: map[string]string{"t": "1"}}
			raw, _ := json.Marshal(e)
			return raw
		}(), "a rollback's verification published data"},
		"moved_from not snapshot": {func() []byte {
			e := rolledBack(r1, record(t, 'b', 'b', false), map[string]string{"t": "x"}, nil)
			raw, _ := json.Marshal(e)
			return raw
		}(), "rollback.moved_from"},
	} {
		_, err := ParseEntry(tc.body)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.says, name)
	}
	// A failed verification records its discarded branch.
	f := published(r1, map[string]string{"event_stream": "42"})
	f.Verdict, f.Reason, f.Audit.Published, f.Audit.BranchFate = Failed, "gate failed", nil, BranchDiscarded
	_, err = f.JSON()
	require.NoError(t, err)
	_ = time.Second
}
