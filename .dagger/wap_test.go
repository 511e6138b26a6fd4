package main

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
)

// wapFake answers `python -m lakehouse.wap …` (run in a container, or
// through `envrun wap … -- …`) the way dagster/lakehouse/wap's CLI does:
// event_stream is published at 7; a smoke run on the branch makes it 42
// (the snapshot the fake gate reports).
type wapFake struct {
	mu     sync.Mutex
	calls  [][]string
	refuse map[string]string // command -> reason (exit 1)
	// interrupt: command -> reason of an error (exit 3) after its steps applied
	interrupt map[string]string
	broken    map[string]string // command -> what it prints instead of a document
	// onCall runs when a command is asked for (e.g. to cancel the run).
	onCall func(cmd string)
	// head is event_stream's snapshot on the branch (default 42, what the
	// fake gate judges).
	head int64
}

func newWapFake(eng *enginetest.Engine) *wapFake {
	f := &wapFake{refuse: map[string]string{}, broken: map[string]string{}, interrupt: map[string]string{}}
	eng.AnswerFunc("exitCode", func(c enginetest.Chain) (any, bool) {
		args, ok := wapArgs(c.LastExec())
		if !ok {
			return nil, false
		}
		f.mu.Lock()
		f.calls = append(f.calls, args)
		hook := f.onCall
		f.mu.Unlock()
		if hook != nil {
			hook(args[0])
		}
		_, code := f.document(args)
		return code, true
	})
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		args, ok := wapArgs(c.LastExec())
		if !ok {
			return nil, false
		}
		out, _ := f.document(args)
		return out, true
	})
	return f
}

// wapArgs are the lakehouse.wap arguments of argv, wherever it runs.
func wapArgs(argv []string) ([]string, bool) {
	if i := slices.Index(argv, "lakehouse.wap"); i >= 0 && i+1 < len(argv) {
		return argv[i+1:], true
	}
	if len(argv) > 2 && argv[0] == envrunPath && argv[1] == "wap" {
		if i := slices.Index(argv, "--"); i >= 0 && i+1 < len(argv) {
			return argv[i+1:], true
		}
	}
	return nil, false
}

// commands are the commands called, in order.
func (f *wapFake) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c[0])
	}
	return out
}

// call is the argv of the first call of cmd.
func (f *wapFake) call(cmd string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if c[0] == cmd {
			return c
		}
	}
	return nil
}

func (f *wapFake) document(args []string) (string, int) {
	cmd := args[0]
	f.mu.Lock()
	refusal, broken, interrupted := f.refuse[cmd], f.broken[cmd], f.interrupt[cmd]
	f.mu.Unlock()
	if broken != "" {
		return broken, 3
	}
	pinned := func(ref string, id int64) map[string]any {
		return map[string]any{"ref": ref, "hash": nil, "tables": map[string]any{"event_stream": id}}
	}
	branch := argAfter(args, "--branch")
	d := map[string]any{"schema_version": 1, "command": cmd, "outcome": "ok", "exit_code": 0, "reason": nil,
		"environment": "x", "backend": "table-refs", "namespace": "lakehouse", "branch": nil}
	if branch != "" {
		d["branch"] = branch
	}
	changes := []any{map[string]any{"table": "event_stream", "current": 42, "target": 7, "action": "rollback",
		"rows_current": 20, "rows_target": 10, "relation": "target-is-ancestor", "snapshots_between": 1,
		"rows_added_between": 10, "rows_deleted_between": 0, "schema_changed": false, "schema_diff": nil, "reason": nil}}
	switch cmd {
	case "begin":
		d["base"] = pinned("main", 7)
	case "status":
		head := f.head
		if head == 0 {
			head = 42
		}
		d["published"], d["head"], d["changed"] = pinned("main", 7), pinned(branch, head), []string{"event_stream"}
	case "publish":
		var expect map[string]int64
		_ = json.Unmarshal([]byte(argAfter(args, "--expect")), &expect)
		d["expected"], d["method"], d["resumed"] = expect, "per-table", false
		d["steps"] = []any{map[string]any{"table": "event_stream", "base": 7, "target": 42, "result": "applied"}}
		d["mismatches"], d["published"], d["branch_removed"] = nil, pinned("main", 42), true
	case "discard":
		d["removed"], d["dropped_tables"] = true, []string{}
	case "plan-rollback", "rollback":
		var to map[string]int64
		_ = json.Unmarshal([]byte(argAfter(args, "--to")), &to)
		d["target"], d["changes"], d["text"] = to, changes, "event_stream: 42 -> 7 (10 rows fewer)"
		if cmd == "rollback" {
			d["method"], d["resumed"] = "per-table", false
			d["steps"] = []any{map[string]any{"table": "event_stream", "base": 42, "target": 7, "result": "applied"}}
			d["moved_from"], d["published"] = map[string]any{"event_stream": 42}, pinned("main", 7)
		}
	}
	code := 0
	if refusal != "" {
		d["outcome"], d["exit_code"], d["reason"], code = "refused", 1, refusal, 1
		for k, v := range map[string]any{"base": nil, "head": nil, "published": nil, "steps": nil, "branch_removed": false, "moved_from": nil} {
			if _, ok := d[k]; ok {
				d[k] = v
			}
		}
	}
	if interrupted != "" {
		d["outcome"], d["exit_code"], d["reason"], code = "error", 3, interrupted, 3
		d["published"], d["branch_removed"] = nil, false
	}
	raw, _ := json.MarshalIndent(d, "", "  ")
	return string(raw), code
}

func ciRun(t *testing.T, gate string, keepAudit bool, setup func(*enginetest.Engine, *wapFake)) (string, error, *wapFake, *ledgerFake, *enginetest.Engine) {
	t.Helper()
	m, eng, ledger := ciEngine(t, gate)
	f := newWapFake(eng)
	if setup != nil {
		setup(eng, f)
	}
	r, err := m.CiResult(t.Context(), localEnv(t), true, false, keepAudit, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	if err != nil {
		return "", err, f, ledger, eng
	}
	return r.Markdown, nil, f, ledger, eng
}

func TestCiWritesToTheAuditBranchAndPublishesOnlyWhatTheGateJudged(t *testing.T) {
	out, err, f, ledger, eng := ciRun(t, "pass", false, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"begin", "status", "publish"}, f.commands(), "begin, status, publish; no discard after a publish")
	branch := f.call("begin")[2]
	assert.Regexp(t, `^audit-[0-9a-f]{16}$`, branch)
	// The smoke run writes to the branch; the gate reads the branch.
	smoke := ran(t, eng, "python", "-m", "lakehouse.smoke")
	assert.Equal(t, branch, argAfter(smoke.LastExec(), "--audit-branch"))
	gate := ran(t, eng, "python", "-m", "lakehouse.quality.gate")
	assert.Equal(t, branch, argAfter(gate.LastExec(), "--branch"), "the gate judges the branch, never the published ref")
	// Order: begin, smoke, status, gate, publish, ledger.
	idx := func(s string) int { i := queryIndex(eng, s); require.GreaterOrEqual(t, i, 0, s); return i }
	order := []int{idx(`"begin"`), idx("lakehouse.smoke"), idx(`"status"`), idx("--project-dir"), idx(`"publish","--branch"`), idx(`"append"`)}
	assert.True(t, slices.IsSorted(order), "begin, smoke, status, gate, publish, record: %v", order)
	// The publish expects exactly the gate's judged snapshot (event_stream at 42).
	assert.Equal(t, `{"event_stream":42}`, argAfter(f.call("publish"), "--expect"))
	assert.Equal(t, branch, argAfter(f.call("publish"), "--branch"))
	for _, s := range []string{"| audit branch | ok", "| materialize | ok", "| audit head | ok", "| quality gate | ok", "| publish | ok", "- audit branch: `" + branch + "`", "- published: `event_stream@42`", "- judged head: `event_stream@42`", "- audit base: `event_stream@7`"} {
		assert.Contains(t, out, s)
	}
	require.Len(t, ledger.entries, 1)
	e, err := promotion.ParseEntry([]byte(ledger.entries[0]))
	require.NoError(t, err)
	require.NotNil(t, e.Audit)
	assert.Equal(t, map[string]string{"event_stream": "42"}, e.Audit.Published, "the ledger records the published snapshots")
	assert.Equal(t, map[string]string{"event_stream": "7"}, e.Audit.Base)
	assert.Equal(t, promotion.BranchPublished, e.Audit.BranchFate)
}

func TestCiWithAFailingGateDiscardsTheBranchAndPublishesNothing(t *testing.T) {
	out, err, f, ledger, _ := ciRun(t, "fail", false, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"begin", "status", "discard"}, f.commands(), "no publish after a failing gate")
	assert.Contains(t, out, "| quality gate | failed")
	assert.Contains(t, out, "| discard audit branch | ok | 0s | dropped audit-")
	assert.Contains(t, out, "nothing was published")
	assert.NotContains(t, out, "- published:")
	assert.Contains(t, out, "Rerun only this step: `dagger call ci --env "+localEnv(t)+" --skip-checks`", "the audited path reruns whole, never a bare materialize")
	assert.Empty(t, ledger.entries)
}

func TestCiKeepAuditKeepsTheBranchOfAFailedVerification(t *testing.T) {
	out, err, f, _, _ := ciRun(t, "fail", true, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"begin", "status"}, f.commands(), "neither publish nor discard")
	assert.Contains(t, out, "| discard audit branch | skipped | 0s | --keep-audit: audit-")
}

func TestCiWithAFailingSmokeRunDiscards(t *testing.T) {
	out, err, f, _, _ := ciRun(t, "pass", false, func(eng *enginetest.Engine, _ *wapFake) {
		eng.FailExec(1, "", "smoke zz: FAILED", "python", "-m", "lakehouse.smoke")
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"begin", "discard"}, f.commands())
	assert.Contains(t, out, "| materialize | failed")
}

// A cancelled pipeline still discards: the cleanup has a context of its own.
func TestACancelledCiRunStillDiscardsTheBranch(t *testing.T) {
	m, eng, _ := ciEngine(t, "pass")
	f := newWapFake(eng)
	ctx, cancel := context.WithCancel(t.Context())
	f.onCall = func(cmd string) {
		if cmd == "status" {
			cancel()
		}
	}
	r, err := m.CiResult(ctx, localEnv(t), true, false, false, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.NoError(t, err)
	assert.Equal(t, "failed", r.Verdict)
	cmds := f.commands()
	assert.NotContains(t, cmds, "publish")
	assert.Equal(t, "discard", cmds[len(cmds)-1], "the branch is discarded after the cancel: %v", cmds)
	assert.Contains(t, r.Markdown, "| discard audit branch | ok")
}

func TestAWapRefusalReachesTheUserWithItsReason(t *testing.T) {
	out, err, f, ledger, _ := ciRun(t, "pass", false, func(_ *enginetest.Engine, f *wapFake) {
		f.refuse["publish"] = "event_stream is at 43 on the branch, not the audited 42: another writer"
	})
	require.NoError(t, err)
	assert.Contains(t, out, "| publish | failed")
	assert.Contains(t, out, "lakehouse.wap publish refused: event_stream is at 43 on the branch, not the audited 42: another writer")
	assert.Equal(t, []string{"begin", "status", "publish", "discard"}, f.commands())
	assert.Empty(t, ledger.entries)

	// A document that is not one is an error that says so, with stderr.
	out, err, _, _, _ = ciRun(t, "pass", false, func(_ *enginetest.Engine, f *wapFake) {
		f.broken["begin"] = "Traceback (most recent call last):"
	})
	require.NoError(t, err)
	assert.Contains(t, out, "lakehouse.wap begin (exit 3) printed no valid document")
}

// The publish expects what the gate judged; a gate report of another
// snapshot than the branch head publishes nothing.
func TestAGateThatJudgedAnotherSnapshotPublishesNothing(t *testing.T) {
	out, err, f, ledger, _ := ciRun(t, "pass", false, func(_ *enginetest.Engine, f *wapFake) { f.head = 43 })
	require.NoError(t, err)
	assert.Equal(t, []string{"begin", "status", "discard"}, f.commands())
	assert.Contains(t, out, "| publish | failed")
	assert.Contains(t, out, "the gate did not judge the audit branch's head (event_stream judged at 42, branch head 43): nothing is published")
	assert.Empty(t, ledger.entries)
}

// A publish interrupted after some tables: the ledger says which tables
// readers now see new, and the branch stays for the publish to resume.
func TestAnInterruptedPublishIsRecordedAndResumable(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, ledger, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "pass")
	f := newWapFake(eng)
	f.interrupt["publish"] = "the catalog went away after event_stream: rerun to resume"
	_, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "", false)
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "lakehouse.wap publish error: the catalog went away after event_stream")
	assert.Contains(t, msg, "resume with `python -m lakehouse.wap publish --branch audit-"+rel.ID)
	assert.Equal(t, []string{"begin", "status", "publish"}, f.commands(), "the branch is not discarded: the publish resumes from it")
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+first+"/releases"][0]))
	require.NoError(t, err)
	assert.Equal(t, promotion.Failed, e.Verdict)
	assert.Equal(t, promotion.BranchLeft, e.Audit.BranchFate)
	assert.Equal(t, map[string]string{"event_stream": "42"}, e.Audit.Applied)
}
