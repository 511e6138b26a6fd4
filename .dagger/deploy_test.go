package main

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/dagger"
	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// prefixLedger fakes the ledger tool with one log per prefix.
type prefixLedger struct {
	mu   sync.Mutex
	logs map[string][]string
}

func argAfter(argv []string, flag string) string {
	for i, a := range argv {
		if a == flag && i+1 < len(argv) {
			return argv[i+1]
		}
	}
	return ""
}

func (l *prefixLedger) answer(c enginetest.Chain) (any, bool) {
	last := c.LastExec()
	if len(last) < 2 || last[0] != "/tmp/lakehouse-ledger" {
		return nil, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	prefix := argAfter(last, "--prefix")
	switch last[1] {
	case "append":
		l.logs[prefix] = append(l.logs[prefix], c.NewFiles()["/tmp/lakehouse-entry.json"])
		return `{"seq":` + itoa(len(l.logs[prefix])) + `,"key":"` + prefix + `/x.json"}`, true
	case "read":
		var rows []string
		for i, body := range l.logs[prefix] {
			rows = append(rows, `{"seq":`+itoa(i+1)+`,"key":"`+prefix+`/`+itoa(i+1)+`.json","body":`+body+`}`)
		}
		return "[" + strings.Join(rows, ",") + "]", true
	}
	return nil, false
}

func itoa(i int) string { return jsonInt(i) }

func jsonInt(i int) string { b, _ := json.Marshal(i); return string(b) }

func testRelease(t testing.TB) release.Record {
	t.Helper()
	id, err := release.NewIdentity(testCommit, false, mustTime(t, testCommitTime), "")
	require.NoError(t, err)
	rec, err := release.NewRecord(id, "registry.example/lakehouse@sha256:"+strings.Repeat("1", 64), "registry.example/lakehouse@sha256:"+strings.Repeat("2", 64), nil, mustTime(t, testCommitTime))
	require.NoError(t, err)
	return rec
}

// deployEngine fakes a deploy: terraform with changes, outputs with the
// runtime settings, a smoke run that passes, the gate with outcome, and
// the ledger.
func deployEngine(t testing.TB, env string, rel release.Record, outcome string) (*Lakehouse, *enginetest.Engine, *prefixLedger, *dagger.File) {
	t.Helper()
	return deployEngineAt(t, repoRoot(t), env, rel, outcome)
}

// deployEngineAt is deployEngine on the repository at root.
func deployEngineAt(t testing.TB, root, env string, rel release.Record, outcome string) (*Lakehouse, *enginetest.Engine, *prefixLedger, *dagger.File) {
	t.Helper()
	m, eng := tfEngineAt(t, root, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	raw, _ := rel.JSON()
	eng.AnswerFunc("contents", func(c enginetest.Chain) (any, bool) { return string(raw), c.Has("file", "path", "release.json") })
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 1 && last[1] == "output" {
			return `{"dagster_env":{"sensitive":false,"type":["map","string"],"value":{"LAKEHOUSE_ENVIRONMENT":"` + env + `","ICEBERG_CATALOG_URI":"https://nessie.internal/iceberg/main","ICEBERG_WAREHOUSE":"s3://b/warehouse"}}}`, true
		}
		return nil, false
	})
	serveGate(eng, gateReportJSON(env, outcome, &rel), map[string]int{"pass": 0, "fail": 1, "warn": 2}[outcome])
	eng.AnswerFunc("exitCode", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) >= 3 && last[2] == "lakehouse.smoke" {
			return 0, true
		}
		return nil, false
	})
	l := &prefixLedger{logs: map[string][]string{}}
	eng.AnswerFunc("stdout", l.answer)
	return m, eng, l, dag.Directory().WithNewFile("release.json", string(raw)).File("release.json")
}

// promotionEnvs are the first environment of the checkout's promotion
// order and the one that promotes from it.
func promotionEnvs(t testing.TB) (string, string) {
	t.Helper()
	m, eng := newModule(t)
	serveRepo(t, eng, repoRoot(t))
	c, err := m.environments(t.Context())
	require.NoError(t, err)
	order, err := c.PromotionOrder()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(order), 2)
	return order[0].Name(), order[1].Name()
}

func TestDeployOfTheFirstEnvironmentPlansTheDigestAppliesVerifiesAndRecords(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, ledger, record := deployEngine(t, first, rel, "pass")
	out, err := withAWS(m).Deploy(t.Context(), first, record, "aws", nil, nil, true, "", "")
	require.NoError(t, err, out)
	for _, step := range []string{"| upstream evidence | ok", "| plan | ok", "| apply | ok", "| smoke materialization | ok", "| quality gate | ok", "| record | ok"} {
		assert.Contains(t, out, step)
	}
	applied := ran(t, eng, "terraform", "apply")
	lines := strings.Join(applied.ExecLines(), "\n")
	assert.Contains(t, lines, "-var=dagster_image="+rel.RuntimeImage, "the reviewed plan carries the release's digest")
	assert.Less(t, execIndex(applied, "terraform", "plan"), execIndex(applied, "terraform", "apply"))
	// The gate runs the release's gate image; the record follows the gate.
	gate := ran(t, eng, "python", "-m", "lakehouse.quality.gate")
	assert.Equal(t, rel.GateImage, gate.From())
	assert.Contains(t, gate.SecretEnv()["AWS_SECRET_ACCESS_KEY"], "setSecret(")
	assert.Less(t, queryIndex(eng, "--project-dir"), queryIndex(eng, `"append"`))
	entries := ledger.logs["iceberg-lakehouse/"+first+"/releases"]
	require.Len(t, entries, 1)
	e, err := promotion.ParseEntry([]byte(entries[0]))
	require.NoError(t, err)
	assert.Equal(t, promotion.Passed, e.Verdict)
	assert.Equal(t, rel.ID, e.Release.ID)
	for _, canary := range []string{canaryKeyID, canarySecret, canaryToken} {
		assertNoLeak(t, eng, canary)
	}
}

func TestDeployRefusesAReleaseWithoutUpstreamEvidenceAndChangesNothing(t *testing.T) {
	_, second := promotionEnvs(t)
	m, eng, ledger, record := deployEngine(t, second, testRelease(t), "pass")
	_, err := withAWS(m).Deploy(t.Context(), second, record, "aws", nil, nil, true, "", "")
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "| upstream evidence | failed")
	assert.Contains(t, msg, "has no release on record")
	assert.Contains(t, msg, "deploy --env")
	assert.Negative(t, queryIndex(eng, `"apply"`), "nothing is applied")
	assert.Empty(t, ledger.logs["iceberg-lakehouse/"+second+"/releases"], "nothing is recorded")
}

func TestPromoteDeploysWhatPassedUpstream(t *testing.T) {
	first, second := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, ledger, _ := deployEngine(t, second, rel, "pass")
	passed := promotion.Entry{SchemaVersion: 1, Environment: first, Release: rel, Verdict: promotion.Passed,
		Gate:       &promotion.GateEvidence{Outcome: "pass", FinishedAt: time.Now().UTC().Format(time.RFC3339), Report: json.RawMessage(gateReportJSONAt(first, "pass", &rel, time.Now().UTC()))},
		RecordedAt: time.Now().UTC().Format(time.RFC3339)}
	body, _ := passed.JSON()
	ledger.logs["iceberg-lakehouse/"+first+"/releases"] = []string{string(body)}
	out, err := withAWS(m).Promote(t.Context(), first, second, "aws", nil, true, "", "")
	require.NoError(t, err, out)
	applied := ran(t, eng, "terraform", "apply")
	assert.Contains(t, strings.Join(applied.ExecLines(), "\n"), "-var=dagster_image="+rel.RuntimeImage, "the digest that passed upstream is the digest deployed")
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+second+"/releases"][0]))
	require.NoError(t, err)
	assert.Equal(t, first, e.Upstream.Environment)

	_, err = withAWS(m).Promote(t.Context(), second, first, "aws", nil, true, "", "")
	require.ErrorContains(t, err, "promotes from")
}
