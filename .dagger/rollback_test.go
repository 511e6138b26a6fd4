package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// otherRelease is a later release than testRelease (other digests).
func otherRelease(t testing.TB) release.Record {
	t.Helper()
	id, err := release.NewIdentity(strings.Repeat("b", 40), false, mustTime(t, testCommitTime), "")
	require.NoError(t, err)
	rec, err := release.NewRecord(id, "registry.example/lakehouse@sha256:"+strings.Repeat("3", 64), "registry.example/lakehouse@sha256:"+strings.Repeat("4", 64), nil, mustTime(t, testCommitTime))
	require.NoError(t, err)
	return rec
}

// publishedIn records that rel passed in env and published event_stream at snapshot.
func publishedIn(t testing.TB, l *prefixLedger, env string, rel release.Record, snapshot string) {
	t.Helper()
	at := time.Now().UTC().Add(-time.Hour)
	e := promotion.Entry{SchemaVersion: promotion.EntrySchemaVersion, Kind: promotion.DeployEntry, Environment: env, Release: rel, Verdict: promotion.Passed,
		Gate: &promotion.GateEvidence{Outcome: "pass", FinishedAt: at.Format(time.RFC3339), Report: json.RawMessage(gateReportJSONAt(env, "pass", &rel, at))},
		Audit: &promotion.Audit{Branch: "audit-" + rel.ID, Backend: "table-refs", Base: map[string]string{"event_stream": "1"},
			Judged: map[string]string{"event_stream": snapshot}, Published: map[string]string{"event_stream": snapshot}, BranchFate: promotion.BranchPublished},
		RecordedAt: at.Format(time.RFC3339)}
	body, err := e.JSON()
	require.NoError(t, err)
	l.logs["iceberg-lakehouse/"+env+"/releases"] = append(l.logs["iceberg-lakehouse/"+env+"/releases"], string(body))
}

// rollbackEngine: policyEnv (asking for approval when approval is true)
// ran old (event_stream published at 7), then runs current (at 42).
func rollbackEngine(t *testing.T, approval bool) (*Lakehouse, *enginetest.Engine, *prefixLedger, *wapFake, release.Record, release.Record) {
	t.Helper()
	root, _ := policyRepo(t, map[string]string{"promotion_requires_approval": map[bool]string{true: "true", false: "false"}[approval]})
	old, current := testRelease(t), otherRelease(t)
	m, eng, ledger, _ := deployEngineAt(t, root, policyEnv, old, "pass")
	f := newWapFake(eng)
	publishedIn(t, ledger, policyEnv, old, "7")
	publishedIn(t, ledger, policyEnv, current, "42")
	return withAWS(m), eng, ledger, f, old, current
}

func TestRollbackShowsThePlanAndRefusesWithoutConfirmWhereApprovalIsRequired(t *testing.T) {
	m, eng, ledger, f, old, current := rollbackEngine(t, true)
	_, err := m.Rollback(t.Context(), policyEnv, "", false, nil, nil, "", "", "aws", true, false)
	require.Error(t, err)
	msg := cliMessage(err)
	for _, s := range []string{
		"- target release: `" + old.ID, "- current release: `" + current.ID,
		"runtime " + current.RuntimeImage + " → " + old.RuntimeImage,
		"- data plan: `event_stream: 42 -> 7 (10 rows fewer)`",
		"| plan | ok", "| data plan | ok | 0s | 1 tables move back to event_stream@7",
		"| confirmation | failed", "promotion_requires_approval", "--confirm",
	} {
		assert.Contains(t, msg, s)
	}
	assert.Equal(t, []string{"plan-rollback"}, f.commands(), "nothing moves before the confirmation")
	assert.Equal(t, `{"event_stream":7}`, argAfter(f.call("plan-rollback"), "--to"), "the target's recorded published snapshots")
	assert.Negative(t, queryIndex(eng, `"apply"`), "nothing is applied")
	assert.Len(t, ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"], 2, "nothing recorded")
}

func TestRollbackRedeploysTheTargetsDigestsMovesTheDataAndRecordsIt(t *testing.T) {
	m, eng, ledger, f, old, current := rollbackEngine(t, true)
	out, err := m.Rollback(t.Context(), policyEnv, "", true, nil, nil, "event_stream lost rows", "zz-oncall@example.com", "aws", true, false)
	require.NoError(t, err, cliMessage(err))
	// The data moves after the exact apply of the target's digests; the
	// verification audits on a branch and publishes nothing.
	assert.Equal(t, []string{"plan-rollback", "rollback", "begin", "status", "discard"}, f.commands())
	applied := ran(t, eng, "terraform", "apply")
	assert.Contains(t, strings.Join(applied.ExecLines(), "\n"), "-var=dagster_image="+old.RuntimeImage, "the target's recorded digest, never a rebuild")
	assert.GreaterOrEqual(t, queryIndex(eng, `"terraform","plan"`), 0)
	assert.Less(t, queryIndex(eng, `"apply"`), queryIndex(eng, `"rollback","--to"`))
	assert.Less(t, queryIndex(eng, `"rollback","--to"`), queryIndex(eng, `"append"`))
	assert.Equal(t, `{"event_stream":7}`, argAfter(f.call("rollback"), "--to"))
	w := ran(t, eng, "python", "-m", "lakehouse.wap", "rollback")
	assert.Equal(t, old.RuntimeImage, w.From(), "the data moves with the target's runtime image")
	assert.Contains(t, out, "- moved from: `event_stream@42`")
	assert.Contains(t, out, "forward again: `dagger call rollback --env "+policyEnv+" --to "+current.ID+"`")
	for _, canary := range []string{canaryKeyID, canarySecret, canaryToken} {
		assertNoLeak(t, eng, canary)
	}

	entries := ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"]
	require.Len(t, entries, 3)
	e, err := promotion.ParseEntry([]byte(entries[2]))
	require.NoError(t, err)
	assert.Equal(t, promotion.RollbackEntry, e.Kind)
	assert.Equal(t, promotion.Passed, e.Verdict)
	assert.Equal(t, old.ID, e.Release.ID)
	assert.Equal(t, current.ID, e.Rollback.Replaced.ID)
	assert.Equal(t, []promotion.TableRollback{{Table: "event_stream", FromSnapshot: "42", ToSnapshot: "7"}}, e.Rollback.Tables)
	assert.Equal(t, map[string]string{"event_stream": "42"}, e.Rollback.MovedFrom)
	assert.Equal(t, "zz-oncall@example.com", e.Rollback.By)
	assert.Equal(t, "event_stream lost rows", e.Rollback.Reason)
	require.NotNil(t, e.Audit)
	assert.Nil(t, e.Audit.Published, "a rollback's verification publishes nothing")
	assert.Equal(t, promotion.BranchDiscarded, e.Audit.BranchFate)

	// Promotion never admits from it, and a second rollback can go forward again.
	parsed := []promotion.Recorded{}
	for i, body := range entries {
		p, err := promotion.ParseEntry([]byte(body))
		require.NoError(t, err)
		parsed = append(parsed, promotion.Recorded{Seq: i + 1, Entry: p})
	}
	latest, err := promotion.Latest(parsed)
	require.NoError(t, err)
	assert.Equal(t, old.ID, latest.Entry.Release.ID, "the pass of the old release, not the rollback entry")
	assert.Equal(t, promotion.DeployEntry, latest.Entry.Kind)
	forward, err := promotion.ChooseRollback(policyEnv, parsed, current.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"event_stream": "42"}, forward.Snapshots)
}

func TestRollbackWithoutApprovalPolicyNeedsNoConfirm(t *testing.T) {
	m, _, _, f, _, _ := rollbackEngine(t, false)
	out, err := m.Rollback(t.Context(), policyEnv, "", false, nil, nil, "", "", "aws", true, false)
	require.NoError(t, err, cliMessage(err))
	assert.Contains(t, out, "| confirmation | ok | 0s | not required by")
	assert.Contains(t, f.commands(), "rollback")
}

func TestASchemaChangeRefusesTheRollbackByNameUnlessAllowed(t *testing.T) {
	m, eng, ledger, f, _, _ := rollbackEngine(t, false)
	f.refuse["plan-rollback"] = "a rollback would be refused for event_stream (schema changed since the target: added column note); allow it with --allow-schema-change event_stream"
	_, err := m.Rollback(t.Context(), policyEnv, "", true, nil, nil, "", "", "aws", true, false)
	require.Error(t, err)
	assert.Contains(t, cliMessage(err), "lakehouse.wap plan-rollback refused: a rollback would be refused for event_stream")
	assert.Negative(t, queryIndex(eng, `"apply"`), "nothing is applied")
	assert.Len(t, ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"], 2)

	m, _, _, f, _, _ = rollbackEngine(t, false)
	_, err = m.Rollback(t.Context(), policyEnv, "", true, []string{"event_stream"}, nil, "", "", "aws", true, false)
	require.NoError(t, err, cliMessage(err))
	assert.Equal(t, "event_stream", argAfter(f.call("rollback"), "--allow-schema-change"))
	assert.Equal(t, "event_stream", argAfter(f.call("plan-rollback"), "--allow-schema-change"))
}

func TestRollbackRefusesWhatTheLedgerCannotRestore(t *testing.T) {
	m, eng, _, f, _, current := rollbackEngine(t, false)
	_, err := m.Rollback(t.Context(), policyEnv, current.ID, true, nil, nil, "", "", "aws", true, false)
	require.Error(t, err)
	assert.Contains(t, cliMessage(err), "already runs release "+current.ID)
	assert.Empty(t, f.commands())
	assert.Negative(t, queryIndex(eng, `"terraform","plan"`), "no plan either")
}

// Inside the environment (the default), the data commands are tasks of the
// environment's runtime image started by envrun, with credentials as secrets.
func TestRollbackInsideTheEnvironmentRunsTheDataCommandsAsTasks(t *testing.T) {
	m, eng, ledger, f, old, _ := rollbackEngine(t, false)
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		last := c.LastExec()
		switch {
		case len(last) > 1 && last[1] == "output":
			return appliedOutputs(policyEnv, old.RuntimeImage, old.GateImage), true
		case len(last) > 1 && last[0] == envrunPath && last[1] != "gate" && last[1] != "wap":
			return `{"summary":"` + last[1] + ` done"}` + "\n", true
		}
		return nil, false
	})
	eng.AnswerFunc("entries", func(c enginetest.Chain) (any, bool) {
		return []string{"gate.json", "gate.md"}, c.Has("directory", "path", gateOut)
	})
	_, err := m.Rollback(t.Context(), policyEnv, "", false, nil, nil, "", "", "aws", false, false)
	require.NoError(t, err, cliMessage(err))
	assert.Equal(t, []string{"plan-rollback", "rollback", "begin", "status", "discard"}, f.commands())
	w := ran(t, eng, envrunPath, "wap")
	assert.Equal(t, "lakehouse-rollback-"+old.ID, argAfter(w.LastExec(), "--started-by"))
	assert.Contains(t, w.SecretEnv()["AWS_SECRET_ACCESS_KEY"], "setSecret(")
	assert.Negative(t, queryIndex(eng, "lakehouse.wap"), "no wap command ran from this runner")
	for _, canary := range []string{canaryKeyID, canarySecret, canaryToken, "hunter2-canary"} {
		assertNoLeak(t, eng, canary)
	}
	assert.Len(t, ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"], 3)
}
