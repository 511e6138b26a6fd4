package promotion

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// policyEnvs are a1 → b2, each file with its own extra lines.
func policyEnvs(t testing.TB, a1, b2 string) (environment.Env, environment.Env) {
	t.Helper()
	c, err := environment.NewCatalog(map[string][]byte{
		"environments/a1.tfvars": []byte("project_name = \"lakehouse\"\nenvironment = \"a1\"\ncloud_provider = \"aws\"\npromotion_upstream = \"\"\n" + a1 + "\n"),
		"environments/b2.tfvars": []byte("project_name = \"lakehouse\"\nenvironment = \"b2\"\ncloud_provider = \"aws\"\npromotion_upstream = \"a1\"\n" + b2 + "\n"),
	})
	require.NoError(t, err)
	require.NoError(t, c.Err())
	a, _ := c.Lookup("a1")
	b, _ := c.Lookup("b2")
	return a, b
}

const parisWeekend = "promotion_timezone = \"Europe/Paris\"\npromotion_freeze_weekly = [{ days = [\"sat\", \"sun\"], from = \"00:00\", to = \"24:00\" }]"

func TestASoakNotElapsedIsRefusedUntilItEnds(t *testing.T) {
	_, b2 := policyEnvs(t, "", "promotion_min_soak_hours = 48\npromotion_timezone = \"Europe/Paris\"")
	rel := record(t, 'c', 'a', false)
	released := now.Add(-10 * time.Hour)
	_, err := Decide(Request{Target: b2, Release: rel, Now: now}, ledger(entry("a1", rel, Passed, "pass", released)))
	require.Error(t, err)
	var r *Refusal
	require.ErrorAs(t, err, &r)
	assert.Equal(t, Soaking, r.Kind)
	assert.True(t, r.AllowedFrom.Equal(released.Add(48*time.Hour)), "allowed from %s", r.AllowedFrom)
	for _, s := range []string{
		"was released to a1 at 2026-12-01T03:00:00+01:00 (Europe/Paris, 2026-12-01T02:00:00Z) (entry 1)",
		"requires a soak of 48 h there: allowed from 2026-12-03T03:00:00+01:00 (Europe/Paris, 2026-12-03T02:00:00Z)",
		"--break-glass",
	} {
		assert.Contains(t, err.Error(), s)
	}

	_, err = Decide(Request{Target: b2, Release: rel, Now: released.Add(48 * time.Hour)}, ledger(entry("a1", rel, Passed, "pass", released)))
	require.NoError(t, err, "admitted the moment the soak ends")
}

// The soak counts from the first pass of the release's latest unbroken run
// of passes upstream: a re-verification does not restart it, a failure does.
func TestTheSoakCountsFromTheFirstPassSinceTheLastFailure(t *testing.T) {
	_, b2 := policyEnvs(t, "", "promotion_min_soak_hours = 48")
	rel, other := record(t, 'c', 'a', false), record(t, 'd', 'b', false)
	d, err := Decide(Request{Target: b2, Release: rel, Now: now}, ledger(
		entry("a1", rel, Passed, "pass", now.Add(-50*time.Hour)),
		entry("a1", other, Failed, "", now.Add(-40*time.Hour)),
		entry("a1", rel, Passed, "pass", now.Add(-time.Hour)),
	))
	require.NoError(t, err, "another release's failure does not interrupt this one's soak")
	assert.Equal(t, 1, d.SoakFrom.Seq)
	assert.Equal(t, 3, d.Upstream.Seq, "the evidence is the latest pass")

	_, err = Decide(Request{Target: b2, Release: rel, Now: now}, ledger(
		entry("a1", rel, Passed, "pass", now.Add(-50*time.Hour)),
		entry("a1", rel, Failed, "fail", now.Add(-40*time.Hour)),
		entry("a1", rel, Passed, "pass", now.Add(-time.Hour)),
	))
	var r *Refusal
	require.ErrorAs(t, err, &r)
	assert.Equal(t, Soaking, r.Kind)
	assert.True(t, r.AllowedFrom.Equal(now.Add(47*time.Hour)), "from the pass after the failure: %s", r.AllowedFrom)
	assert.Contains(t, r.Message, "(entry 3)")
}

func TestASoakEndingInAFreezeIsAllowedWhenTheFreezeEnds(t *testing.T) {
	_, b2 := policyEnvs(t, "", "promotion_min_soak_hours = 48\n"+parisWeekend)
	rel := record(t, 'c', 'a', false)
	thursday := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	_, err := Decide(Request{Target: b2, Release: rel, Now: thursday}, ledger(entry("a1", rel, Passed, "pass", thursday.Add(-time.Hour))))
	var r *Refusal
	require.ErrorAs(t, err, &r)
	assert.Equal(t, Soaking, r.Kind)
	assert.True(t, r.AllowedFrom.Equal(time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)), "Monday 00:00 in Paris: %s", r.AllowedFrom)
	assert.Contains(t, r.Message, "allowed from 2026-12-07T00:00:00+01:00 (Europe/Paris, 2026-12-06T23:00:00Z) (the soak ends at 2026-12-05T12:00:00+01:00")
	assert.Contains(t, r.Message, "inside the freeze promotion_freeze_weekly[0] (sat,sun 00:00-24:00) in Europe/Paris")
}

func TestAFreezeRefusesEveryEnvironmentUntilItEnds(t *testing.T) {
	a1, b2 := policyEnvs(t, parisWeekend, parisWeekend)
	rel := record(t, 'c', 'a', false)
	saturday := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		target   environment.Env
		upstream []Recorded
	}{
		{a1, nil},
		{b2, ledger(entry("a1", rel, Passed, "pass", saturday.Add(-time.Hour)))},
	} {
		_, err := Decide(Request{Target: tc.target, Release: rel, Now: saturday}, tc.upstream)
		var r *Refusal
		require.ErrorAs(t, err, &r, tc.target.Name())
		assert.Equal(t, Frozen, r.Kind)
		assert.Contains(t, r.Message, tc.target.Name()+" is frozen by promotion_freeze_weekly[0] (sat,sun 00:00-24:00) in Europe/Paris until 2026-12-07T00:00:00+01:00 (Europe/Paris, 2026-12-06T23:00:00Z)")
		assert.True(t, r.AllowedFrom.Equal(time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)))

		_, err = CheckCalendar(Request{Target: tc.target, Release: rel, Now: saturday})
		assert.Equal(t, Frozen, KindOf(err), "the calendar alone refuses, before any evidence is read")

		glass, _ := NewBreakGlass("weekend hotfix", "")
		d, err := Decide(Request{Target: tc.target, Release: rel, Now: saturday, BreakGlass: glass}, tc.upstream)
		require.NoError(t, err, "a break-glass goes through the freeze")
		require.Len(t, d.BreakGlass.Overrode, 1)
		assert.Equal(t, Frozen, d.BreakGlass.Overrode[0].Rule)
		d, err = CheckCalendar(Request{Target: tc.target, Release: rel, Now: saturday, BreakGlass: glass})
		require.NoError(t, err)
		assert.Equal(t, Frozen, d.BreakGlass.Overrode[0].Rule)
	}
	_, err := Decide(Request{Target: b2, Release: rel, Now: saturday.Add(-11 * time.Hour)}, ledger(entry("a1", rel, Passed, "pass", saturday.Add(-12*time.Hour))))
	require.NoError(t, err, "Friday 23:00 in Paris is open")
}

// A break-glass deploy goes through soak and freeze, each override
// recorded with its refusal, but never through the evidence.
func TestBreakGlassOverridesSoakAndFreezeButNotTheEvidence(t *testing.T) {
	_, b2 := policyEnvs(t, "", "promotion_min_soak_hours = 48\n"+parisWeekend)
	rel := record(t, 'c', 'a', false)
	saturday := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	glass, err := NewBreakGlass("  hotfix for the broken ingestion ", "on-call@example.com")
	require.NoError(t, err)
	passed := ledger(entry("a1", rel, Passed, "pass", saturday.Add(-time.Hour)))

	d, err := Decide(Request{Target: b2, Release: rel, Now: saturday, BreakGlass: glass}, passed)
	require.NoError(t, err)
	require.NotNil(t, d.BreakGlass)
	assert.Equal(t, "hotfix for the broken ingestion", d.BreakGlass.Reason)
	assert.Equal(t, "on-call@example.com", d.BreakGlass.By)
	require.Len(t, d.BreakGlass.Overrode, 2)
	assert.Equal(t, Soaking, d.BreakGlass.Overrode[0].Rule)
	assert.Contains(t, d.BreakGlass.Overrode[0].Refusal, "requires a soak of 48 h")
	assert.Equal(t, Frozen, d.BreakGlass.Overrode[1].Rule)
	assert.Contains(t, d.BreakGlass.Overrode[1].Refusal, "is frozen by promotion_freeze_weekly[0]")
	assert.Empty(t, glass.Overrode, "the request's own value is not changed")

	for name, upstream := range map[string][]Recorded{
		"no evidence": nil,
		"failed":      ledger(entry("a1", rel, Failed, "", saturday.Add(-time.Hour))),
		"revoked":     ledger(entry("a1", rel, Passed, "pass", saturday.Add(-2*time.Hour)), entry("a1", rel, Failed, "fail", saturday.Add(-time.Hour))),
	} {
		_, err := Decide(Request{Target: b2, Release: rel, Now: saturday, BreakGlass: glass}, upstream)
		require.Error(t, err, name)
		assert.NotContains(t, []Kind{Soaking, Frozen, ""}, KindOf(err), name)
	}

	d, err = Decide(Request{Target: b2, Release: rel, Now: saturday.Add(72 * time.Hour), BreakGlass: glass}, passed)
	require.NoError(t, err)
	assert.Empty(t, d.BreakGlass.Overrode, "nothing to override on a Tuesday after the soak")
}

func TestABreakGlassNeedsAOneLineReason(t *testing.T) {
	g, err := NewBreakGlass("", "")
	require.NoError(t, err)
	assert.Nil(t, g, "no flag, no override")
	for reason, want := range map[string]string{
		"   ":                     "--break-glass needs a reason",
		"line one\nline two":      "line break",
		strings.Repeat("x", 501):  "501 characters: keep it to 500",
		"fine reason\x1b[31m red": "control character",
	} {
		_, err := NewBreakGlass(reason, "someone")
		require.Error(t, err, "%q", reason)
		assert.Contains(t, err.Error(), want)
	}
}

// The local rehearsal (ci) is held to the evidence only: it deploys
// nothing to the environment, so its calendar does not apply.
func TestEvidenceAloneIgnoresSoakAndFreeze(t *testing.T) {
	_, b2 := policyEnvs(t, "", "promotion_min_soak_hours = 48\n"+parisWeekend)
	rel := record(t, 'c', 'a', false)
	saturday := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	d, err := Evidence(Request{Target: b2, Release: rel, Now: saturday}, ledger(entry("a1", rel, Passed, "pass", saturday.Add(-time.Hour))))
	require.NoError(t, err)
	assert.Equal(t, 1, d.Upstream.Seq)
	_, err = Evidence(Request{Target: b2, Release: rel, Now: saturday}, nil)
	assert.Equal(t, NoEvidence, KindOf(err))
}

func TestTheLedgerEntryCarriesTheBreakGlass(t *testing.T) {
	rel := record(t, 'c', 'a', false)
	e := entry("b2", rel, Passed, "pass", now)
	e.BreakGlass = &BreakGlass{Reason: "hotfix", By: "someone", Overrode: []Override{{Rule: Frozen, Refusal: "b2 is frozen by …"}}}
	raw, err := e.JSON()
	require.NoError(t, err)
	got, err := ParseEntry(raw)
	require.NoError(t, err)
	assert.Equal(t, e.BreakGlass, got.BreakGlass)

	for name, g := range map[string]*BreakGlass{
		"no reason":        {Reason: "", Overrode: []Override{}},
		"unknown rule":     {Reason: "x", Overrode: []Override{{Rule: FailedUp, Refusal: "failed"}}},
		"no refusal given": {Reason: "x", Overrode: []Override{{Rule: Soaking}}},
	} {
		e.BreakGlass = g
		raw, err := json.Marshal(e) // JSON() refuses to render a malformed entry
		require.NoError(t, err)
		_, err = ParseEntry(raw)
		assert.ErrorContains(t, err, "break_glass", name)
	}
}
