package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// ciEngine fakes a whole ci run on the checkout: publishing answers digests,
// the gate reports pass for the release ci built, the ledger tool keeps
// what is appended.
func ciEngine(t testing.TB, gateOutcome string) (*Lakehouse, *enginetest.Engine, *ledgerFake) {
	t.Helper()
	m, eng := newModule(t)
	serveRepo(t, eng, repoRoot(t))
	gitRepo(t, eng, true, "2026-11-30T17:04:05Z\nhttps://github.com/acme/lakehouse.git\n")
	eng.AnswerFunc("publish", func(c enginetest.Chain) (any, bool) {
		addr := str(c.Path[c.Len()-1].Args["address"])
		d := strings.Repeat("a", 64)
		if strings.HasSuffix(addr, "-gate") {
			d = strings.Repeat("b", 64)
		}
		return addr + "@sha256:" + d, true
	})
	id, err := release.NewIdentity(testCommit, false, mustTime(t, "2026-11-30T17:04:05Z"), "")
	require.NoError(t, err)
	rec, err := release.NewRecord(id, "localhost:5000/lakehouse@sha256:"+strings.Repeat("a", 64), "localhost:5000/lakehouse@sha256:"+strings.Repeat("b", 64), nil, mustTime(t, testCommitTime))
	require.NoError(t, err)
	env := localEnv(t)
	serveGate(eng, gateReportJSON(env, gateOutcome, &rec), map[string]int{"pass": 0, "fail": 1}[gateOutcome])
	l := &ledgerFake{}
	eng.AnswerFunc("stdout", l.answer)
	return m, eng, l
}

// ledgerFake answers the ledger tool: append keeps the entry, read lists it.
type ledgerFake struct {
	mu      sync.Mutex
	entries []string
}

func (l *ledgerFake) answer(c enginetest.Chain) (any, bool) {
	last := c.LastExec()
	if len(last) < 2 || last[0] != "/tmp/lakehouse-ledger" {
		return nil, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch last[1] {
	case "append":
		l.entries = append(l.entries, c.NewFiles()["/tmp/lakehouse-entry.json"])
		return `{"seq":1,"key":"iceberg-lakehouse/x/releases/000001.json"}`, true
	case "read":
		if len(l.entries) == 0 {
			return "[]", true
		}
		return `[{"seq":1,"key":"iceberg-lakehouse/x/releases/000001.json","body":` + l.entries[0] + `}]`, true
	}
	return nil, false
}

func queryIndex(eng *enginetest.Engine, substr string) int {
	for i, q := range eng.Queries() {
		if strings.Contains(q, substr) {
			return i
		}
	}
	return -1
}

func TestCiRunsChecksAndTheReleasePathAndReportsLast(t *testing.T) {
	m, eng, ledger := ciEngine(t, "pass")
	env := localEnv(t)
	out, err := m.Ci(t.Context(), env, false, false, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.NoError(t, err, out)
	for _, step := range []string{"| lint | ok", "| test | ok", "| validate | ok", "| build and publish | ok", "| stack | ok", "| materialize | ok", "| quality gate | ok", "| deploy to the local ledger | ok"} {
		assert.Contains(t, out, step)
	}
	assert.Contains(t, out, "## ci "+env+": **PASSED**")

	// The release is published to the ephemeral registry and the stack
	// pulls it back by digest.
	published := queryIndex(eng, "publish(")
	assert.GreaterOrEqual(t, published, 0)
	code := ran(t, eng, "python", "-m", "lakehouse.quality.gate")
	assert.Equal(t, "localhost:5000/lakehouse@sha256:"+strings.Repeat("b", 64), code.From(), "the gate runs the published gate image")
	// Order: materialize before the gate, the gate before the ledger.
	materialize := queryIndex(eng, "lakehouse.smoke")
	gate := queryIndex(eng, "--project-dir")
	record := queryIndex(eng, `"append"`)
	require.True(t, materialize >= 0 && gate >= 0 && record >= 0)
	assert.Less(t, materialize, gate)
	assert.Less(t, gate, record)
	require.Len(t, ledger.entries, 1)
	assert.Contains(t, ledger.entries[0], `"verdict": "passed"`)
	assert.Contains(t, ledger.entries[0], testCommit)
}

func TestCiFailsWithTheFailingStepItsReasonAndTheRerunCommand(t *testing.T) {
	m, eng, ledger := ciEngine(t, "fail")
	env := localEnv(t)
	var log bytes.Buffer
	ciLog = &log
	t.Cleanup(func() { ciLog = os.Stderr })
	eng.FailExec(1, "", "./x.go:1:1: unreachable code", "go", "vet")
	_, err := m.Ci(t.Context(), env, false, false, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.Error(t, err)
	report := log.String()
	assert.Equal(t, 1, strings.Count(report, "**FAILED**"), "the report is printed once:\n%s", report)
	assert.Contains(t, report, "### lint failed")
	assert.Contains(t, report, "unreachable code")
	assert.Contains(t, report, "Rerun only this step: `dagger call lint`")
	assert.Contains(t, report, "### quality gate failed")
	assert.Contains(t, report, "checks failed")
	assert.Contains(t, report, "| deploy to the local ledger | skipped")
	// The CLI prints the error twice (under the call and at the end): it
	// names what failed, not the report again.
	msg := cliMessage(err)
	assert.Equal(t, "ci "+env+" FAILED at lint, quality gate (the run report above says why; rerun only that step: `dagger call lint`; `dagger call ci-result … markdown` returns the report)", msg)
	assert.Empty(t, ledger.entries, "a release that failed the gate is not recorded as passed")
}

func TestCiSkipChecksRunsOnlyTheReleasePath(t *testing.T) {
	m, eng, _ := ciEngine(t, "pass")
	out, err := m.Ci(t.Context(), localEnv(t), true, true, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.NoError(t, err)
	assert.Contains(t, out, "| checks | skipped | 0s | --skip-checks |")
	assert.Contains(t, out, "services up")
	assert.Negative(t, queryIndex(eng, `"vet"`), "no lint with --skip-checks")
}

// The ledger tool the last step runs is built at the start, beside the
// images and the stack, not after the gate (cold, it took 4 minutes on the
// engine rig, all of them on the critical path).
func TestCiBuildsTheLedgerToolBesideTheReleasePath(t *testing.T) {
	m, eng, _ := ciEngine(t, "pass")
	eng.SetLatency(5 * time.Millisecond)
	_, err := m.Ci(t.Context(), localEnv(t), true, false, nil, nil, nil, dag.Git("https://example.invalid/acme/lakehouse.git"))
	require.NoError(t, err)
	built := queryIndex(eng, "./cmd/ledger")
	require.GreaterOrEqual(t, built, 0, "the ledger tool is built")
	assert.Less(t, built, queryIndex(eng, "publish("), "its build is asked for before the release is even published")
}
