package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// policyEnv is the fixture environment the policy tests deploy to: a copy
// of the checkout's first environment file promoting from it.
const policyEnv = "zzpolicy"

// withPolicy sets the promotion policy lines of a tfvars file (each must
// already be set there: every environment file sets them).
func withPolicy(t testing.TB, src string, values map[string]string) string {
	t.Helper()
	for key, value := range values {
		re := regexp.MustCompile(`(?m)^(\s*` + key + `\s*=\s*).*$`)
		require.Len(t, re.FindAllStringIndex(src, -1), 1, "the environment file sets %s once", key)
		src = re.ReplaceAllString(src, "${1}"+strings.ReplaceAll(value, "$", "$$"))
	}
	return src
}

// policyRepo is the checkout plus policyEnv, promoting from the first
// environment, with the given policy values.
func policyRepo(t testing.TB, values map[string]string) (root, first string) {
	t.Helper()
	first, _ = promotionEnvs(t)
	values["promotion_timezone"] = `"UTC"`
	src := withPolicy(t, onCloud(t, policyEnv, "aws", first), values)
	return repoWithExtraEnvironments(t, map[string]string{policyEnv + ".tfvars": src}), first
}

// frozenNow is a dated freeze holding now, and the instant it ends.
func frozenNow() (string, time.Time) {
	now := time.Now().UTC().Truncate(time.Second)
	end := now.Add(3 * time.Hour)
	return `[{ from = "` + now.Add(-time.Hour).Format(time.RFC3339) + `", to = "` + end.Format(time.RFC3339) + `" }]`, end
}

// passedIn records in env's ledger that rel passed there at recordedAt.
func passedIn(t testing.TB, l *prefixLedger, env string, rel release.Record, recordedAt time.Time) {
	t.Helper()
	e := promotion.Entry{SchemaVersion: promotion.EntrySchemaVersion, Kind: promotion.DeployEntry, Environment: env, Release: rel, Verdict: promotion.Passed,
		Gate:       &promotion.GateEvidence{Outcome: "pass", FinishedAt: recordedAt.Format(time.RFC3339), Report: json.RawMessage(gateReportJSONAt(env, "pass", &rel, recordedAt))},
		RecordedAt: recordedAt.Format(time.RFC3339)}
	body, err := e.JSON()
	require.NoError(t, err)
	l.logs["iceberg-lakehouse/"+env+"/releases"] = append(l.logs["iceberg-lakehouse/"+env+"/releases"], string(body))
}

func TestDeployDuringAFreezeIsRefusedBeforeAnyPlanWithTheNextAllowedTime(t *testing.T) {
	window, end := frozenNow()
	root, first := policyRepo(t, map[string]string{"promotion_freeze_dates": window})
	rel := testRelease(t)
	m, eng, ledger, record := deployEngineAt(t, root, policyEnv, rel, "pass")
	passedIn(t, ledger, first, rel, time.Now().UTC().Add(-time.Hour))

	_, err := withAWS(m).Deploy(t.Context(), policyEnv, record, "aws", nil, nil, true, "", "")
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "| promotion calendar | failed")
	assert.Contains(t, msg, policyEnv+" is frozen by promotion_freeze_dates[0]")
	assert.Contains(t, msg, "until "+end.Format(time.RFC3339)+" (UTC)", "the refusal says when deploys are allowed again")
	assert.Contains(t, msg, `--break-glass "..."`)
	assert.False(t, executed(eng, "terraform"), "nothing is planned")
	assert.False(t, executed(eng, "/tmp/lakehouse-ledger", "read"), "no ledger is even read")
	assert.Len(t, ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"], 0, "nothing is recorded")

	_, err = withAWS(m).Promote(t.Context(), first, policyEnv, "aws", nil, true, "", "")
	require.Error(t, err)
	assert.Contains(t, cliMessage(err), policyEnv+" is frozen by promotion_freeze_dates[0]", "promote honours the freeze too")
	assert.False(t, executed(eng, "terraform"), "nothing is planned")
}

func TestBreakGlassDeploysThroughAFreezeAndTheLedgerRecordsWhy(t *testing.T) {
	window, _ := frozenNow()
	root, first := policyRepo(t, map[string]string{"promotion_freeze_dates": window})
	rel := testRelease(t)
	m, eng, ledger, record := deployEngineAt(t, root, policyEnv, rel, "pass")
	passedIn(t, ledger, first, rel, time.Now().UTC().Add(-time.Hour))

	out, err := withAWS(m).Deploy(t.Context(), policyEnv, record, "aws", nil, nil, true, "ingestion hotfix, approved by the zz on-call", "zz-oncall@example.com")
	require.NoError(t, err, out)
	assert.Contains(t, out, "| promotion calendar | ok")
	assert.Contains(t, out, "frozen; overridden by --break-glass")
	assert.Contains(t, out, `"ingestion hotfix, approved by the zz on-call" by zz-oncall@example.com; overrode freeze: `+policyEnv+" is frozen by")
	assert.True(t, executed(eng, "terraform", "apply"), "the plan is applied")

	entries := ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"]
	require.Len(t, entries, 1)
	e, err := promotion.ParseEntry([]byte(entries[0]))
	require.NoError(t, err)
	assert.Equal(t, promotion.Passed, e.Verdict)
	require.NotNil(t, e.BreakGlass, "the ledger entry records the break-glass")
	assert.Equal(t, "ingestion hotfix, approved by the zz on-call", e.BreakGlass.Reason)
	assert.Equal(t, "zz-oncall@example.com", e.BreakGlass.By)
	require.Len(t, e.BreakGlass.Overrode, 1)
	assert.Equal(t, promotion.Frozen, e.BreakGlass.Overrode[0].Rule)
	assert.Contains(t, string(e.Run), "ingestion hotfix", "and so does the run report inside it")
}

func TestBreakGlassNeverReplacesTheEvidence(t *testing.T) {
	window, _ := frozenNow()
	root, _ := policyRepo(t, map[string]string{"promotion_freeze_dates": window})
	m, eng, ledger, record := deployEngineAt(t, root, policyEnv, testRelease(t), "pass")
	_, err := withAWS(m).Deploy(t.Context(), policyEnv, record, "aws", nil, nil, true, "ingestion hotfix", "")
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "| promotion calendar | ok")
	assert.Contains(t, msg, "| upstream evidence | failed")
	assert.Contains(t, msg, "has no release on record")
	assert.Negative(t, queryIndex(eng, `"apply"`), "nothing is applied")
	assert.Empty(t, ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"])

	_, err = withAWS(m).Deploy(t.Context(), policyEnv, record, "aws", nil, nil, true, " \t ", "zz-oncall")
	require.Error(t, err)
	assert.Contains(t, cliMessage(err), "--break-glass needs a reason")
}

func TestADeployBeforeTheSoakEndsIsRefusedWithTheTimeItEnds(t *testing.T) {
	root, first := policyRepo(t, map[string]string{"promotion_min_soak_hours": "48"})
	rel := testRelease(t)
	m, eng, ledger, record := deployEngineAt(t, root, policyEnv, rel, "pass")
	released := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	passedIn(t, ledger, first, rel, released)

	_, err := withAWS(m).Deploy(t.Context(), policyEnv, record, "aws", nil, nil, true, "", "")
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "| upstream evidence | failed")
	assert.Contains(t, msg, "was released to "+first+" at "+released.Format(time.RFC3339)+" (UTC) (entry 1)")
	assert.Contains(t, msg, "requires a soak of 48 h there: allowed from "+released.Add(48*time.Hour).Format(time.RFC3339)+" (UTC)")
	assert.Negative(t, queryIndex(eng, `"apply"`), "nothing is applied")
	assert.Empty(t, ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"], "nothing is recorded")

	out, err := withAWS(m).Deploy(t.Context(), policyEnv, record, "aws", nil, nil, true, "the zz incident needs it now", "")
	require.NoError(t, err, out)
	assert.Contains(t, out, "soak overridden by --break-glass")
	e, err := promotion.ParseEntry([]byte(ledger.logs["iceberg-lakehouse/"+policyEnv+"/releases"][0]))
	require.NoError(t, err)
	require.NotNil(t, e.BreakGlass)
	assert.Equal(t, promotion.Soaking, e.BreakGlass.Overrode[0].Rule)
}

// executed reports whether any evaluated container ran argv starting with prefix.
func executed(eng *enginetest.Engine, prefix ...string) bool {
	for _, c := range eng.Containers() {
		if execIndex(c, prefix...) >= 0 {
			return true
		}
	}
	return false
}
