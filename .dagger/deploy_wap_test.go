package main

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
)

// A deploy verified inside the environment: every wap command is a task of
// the release's runtime image started by envrun (credentials as secrets),
// the smoke task writes to the release's branch, the gate task judges it,
// and the publish comes after the pass and before the ledger write.
func TestDeployAuditsTheReleaseInsideTheEnvironmentBeforePublishing(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, ledger, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "pass")
	f := newWapFake(eng)
	out, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "", false)
	require.NoError(t, err, cliMessage(err))
	branch := "audit-" + rel.ID
	assert.Equal(t, []string{"begin", "status", "publish"}, f.commands())
	assert.Equal(t, branch, argAfter(f.call("begin"), "--branch"), "the branch is bound to the release id")
	assert.Equal(t, `{"event_stream":42}`, argAfter(f.call("publish"), "--expect"), "exactly what the gate judged")

	idx := func(s string) int { i := queryIndex(eng, s); require.GreaterOrEqual(t, i, 0, s); return i }
	order := []int{idx(`"apply"`), idx(`"services","--outputs"`), idx(`"begin","--branch"`), idx(`"smoke","--outputs"`), idx(`"status","--branch"`), idx(`"gate","--outputs"`), idx(`"publish","--branch"`), idx(`"append"`)}
	assert.True(t, slices.IsSorted(order), "apply, services, begin, smoke, status, gate, publish, record: %v", order)

	smoke := ran(t, eng, envrunPath, "smoke")
	assert.Equal(t, branch, argAfter(smoke.LastExec(), "--audit-branch"))
	g := ran(t, eng, envrunPath, "gate")
	gateArgv := g.Execs()[len(g.Execs())-1]
	assert.Equal(t, branch, argAfter(gateArgv, "--branch"), "the gate judges the branch, never the published ref")
	assert.Equal(t, rel.Commit, argAfter(gateArgv, "--commit"))
	w := ran(t, eng, envrunPath, "wap")
	assert.Equal(t, "lakehouse-release-"+rel.ID, argAfter(w.LastExec(), "--started-by"))
	assert.Contains(t, w.SecretEnv()["AWS_SECRET_ACCESS_KEY"], "setSecret(")
	for _, canary := range []string{canaryKeyID, canarySecret, canaryToken, "hunter2-canary"} {
		assertNoLeak(t, eng, canary)
	}
	for _, s := range []string{"- audit branch: `" + branch + "`", "- audit base: `event_stream@7`", "- judged head: `event_stream@42`", "- published: `event_stream@42`", "| publish | ok"} {
		assert.Contains(t, out, s)
	}
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+first+"/releases"][0]))
	require.NoError(t, err)
	require.NotNil(t, e.Audit)
	assert.Equal(t, map[string]string{"event_stream": "42"}, e.Audit.Published)
	assert.Equal(t, map[string]string{"event_stream": "42"}, e.Audit.Judged)
	assert.Equal(t, branch, e.Audit.Branch)
}

func TestADeployWhoseGateFailsDiscardsTheBranchAndRecordsNothingPublished(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	for _, keep := range []bool{false, true} {
		m, eng, ledger, raw := inEnvironmentEngine(t, first, rel, rel.RuntimeImage, "fail")
		f := newWapFake(eng)
		_, err := withAWS(m).Deploy(t.Context(), first, dag.Directory().WithNewFile("release.json", raw).File("release.json"), "aws", nil, nil, false, "", "", keep)
		require.Error(t, err)
		assert.NotContains(t, f.commands(), "publish")
		e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+first+"/releases"][0]))
		require.NoError(t, err)
		assert.Equal(t, promotion.Failed, e.Verdict)
		require.NotNil(t, e.Audit)
		assert.Nil(t, e.Audit.Published)
		if keep {
			assert.Equal(t, []string{"begin", "status"}, f.commands())
			assert.Equal(t, promotion.BranchKept, e.Audit.BranchFate)
		} else {
			assert.Equal(t, []string{"begin", "status", "discard"}, f.commands())
			assert.Equal(t, promotion.BranchDiscarded, e.Audit.BranchFate)
		}
	}
}

// --direct runs the same steps from this runner: wap and the smoke run in
// the runtime image, the gate in the gate image, both on the branch.
func TestADirectDeployAuditsTheSameWay(t *testing.T) {
	first, _ := promotionEnvs(t)
	rel := testRelease(t)
	m, eng, ledger, record := deployEngine(t, first, rel, "pass")
	f := newWapFake(eng)
	_, err := withAWS(m).Deploy(t.Context(), first, record, "aws", nil, nil, true, "", "", false)
	require.NoError(t, err, cliMessage(err))
	assert.Equal(t, []string{"begin", "status", "publish"}, f.commands())
	w := ran(t, eng, "python", "-m", "lakehouse.wap")
	assert.Equal(t, rel.RuntimeImage, w.From())
	assert.Contains(t, w.SecretEnv()["AWS_SECRET_ACCESS_KEY"], "setSecret(")
	gate := ran(t, eng, "python", "-m", "lakehouse.quality.gate")
	assert.Equal(t, "audit-"+rel.ID, argAfter(gate.LastExec(), "--branch"))
	for _, canary := range []string{canaryKeyID, canarySecret, canaryToken} {
		assertNoLeak(t, eng, canary)
	}
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+first+"/releases"][0]))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"event_stream": "42"}, e.Audit.Published)
}
