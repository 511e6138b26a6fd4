package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/runreport"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// benchLatency is what every call to the fake engine costs: a round trip
// to a remote engine. Wall time is then the number of round trips made one
// after another, i.e. the orchestration's critical path.
const benchLatency = 20 * time.Millisecond

func timed(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

// BenchmarkDeployOrchestration prints deploy's wall time over its critical
// path: evidence ‖ plan, then apply, verification inside the environment
// (outputs, services, smoke task, gate task), record — each stage
// measured alone on a fresh engine with the same latency. Goal: ≤ 1.10.
func BenchmarkDeployOrchestration(b *testing.B) {
	first, _ := promotionEnvs(b)
	rel := testRelease(b)
	setup := func() (*Lakehouse, terraform.Target) {
		m, eng, _, _ := inEnvironmentEngine(b, first, rel, rel.RuntimeImage, "pass")
		eng.SetLatency(benchLatency)
		m = withAWS(m)
		target, err := m.target(context.Background(), first, "aws")
		require.NoError(b, err)
		return m, target
	}
	for i := 0; i < b.N; i++ {
		m, _ := setup()
		raw, _ := rel.JSON()
		record := dag.Directory().WithNewFile("release.json", string(raw)).File("release.json")
		wall := timed(func() {
			_, err := m.Deploy(context.Background(), first, record, "aws", nil, nil, false, "", "")
			require.NoError(b, err)
		})
		m, tg := setup()
		resolve := timed(func() {
			_, err := m.target(context.Background(), first, "aws")
			require.NoError(b, err)
		})
		evidence := timed(func() { _, _ = m.evidence(context.Background(), tg, rel, nil, nil) })
		m, tg = setup()
		var plan *Plan
		planning := timed(func() {
			var err error
			plan, err = m.plan(context.Background(), tg, &rel)
			require.NoError(b, err)
		})
		apply := timed(func() { _, _ = plan.Apply(context.Background(), nil) })
		m, tg = setup()
		verify := timed(func() {
			_, _ = m.verifyInEnvironment(context.Background(), runreport.New("deploy", first, nil), tg, rel)
		})
		m, tg = setup()
		record2 := timed(func() {
			_, _ = m.appendLedger(context.Background(), m.ledgerClient(tg), m.stateLedger(tg, first), promotion.Entry{SchemaVersion: 1, Environment: first, Release: rel, Verdict: promotion.Failed, Reason: "bench", RecordedAt: time.Now().UTC().Format(time.RFC3339)})
		})
		critical := resolve + max(evidence, planning) + apply + verify + record2
		ratio := float64(wall) / float64(critical)
		b.ReportMetric(ratio, "wall/critical")
		fmt.Printf("deploy orchestration: wall %v, critical path %v (resolve %v, evidence %v ‖ plan %v, apply %v, verify %v, record %v): ratio %.2f (goal ≤ 1.10)\n",
			wall.Round(time.Millisecond), critical.Round(time.Millisecond), resolve.Round(time.Millisecond), evidence.Round(time.Millisecond), planning.Round(time.Millisecond),
			apply.Round(time.Millisecond), verify.Round(time.Millisecond), record2.Round(time.Millisecond), ratio)
	}
}

// BenchmarkCiOrchestration prints ci's wall time over its critical path:
// the checks run beside the release path (build and publish, stack,
// materialize, gate, local deploy), so the path is the longer of the two.
func BenchmarkCiOrchestration(b *testing.B) {
	env := localEnv(b)
	setup := func() *Lakehouse {
		m, eng, _ := ciEngine(b, "pass")
		eng.SetLatency(benchLatency)
		return m
	}
	git := func() *dagger.GitRepository { return dag.Git("https://example.invalid/acme/lakehouse.git") }
	for i := 0; i < b.N; i++ {
		m := setup()
		wall := timed(func() {
			_, err := m.Ci(context.Background(), env, false, false, nil, nil, nil, git())
			require.NoError(b, err)
		})
		m = setup()
		checks := map[string]time.Duration{
			"lint":     timed(func() { _ = m.Lint(context.Background()) }),
			"test":     timed(func() { _ = m.Test(context.Background()) }),
			"validate": timed(func() { _ = m.Validate(context.Background()) }),
		}
		m = setup()
		var rel release.Record
		publish := timed(func() {
			var err error
			rel, err = m.publishLocal(context.Background(), m.ciRegistry(nil), git())
			require.NoError(b, err)
		})
		m = setup()
		releasePath := timed(func() {
			_, err := m.Ci(context.Background(), env, true, false, nil, nil, nil, git())
			require.NoError(b, err)
		})
		_ = rel
		longestCheck := max(checks["lint"], checks["test"], checks["validate"])
		critical := max(longestCheck, releasePath)
		ratio := float64(wall) / float64(critical)
		b.ReportMetric(ratio, "wall/critical")
		fmt.Printf("ci orchestration: wall %v, critical path %v (longest check %v ‖ release path %v, of which publish %v): ratio %.2f (goal ≤ 1.10)\n",
			wall.Round(time.Millisecond), critical.Round(time.Millisecond), longestCheck.Round(time.Millisecond), releasePath.Round(time.Millisecond), publish.Round(time.Millisecond), ratio)
	}
}
