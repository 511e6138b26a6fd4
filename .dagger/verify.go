package main

import (
	"context"
	"fmt"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/runreport"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// verifyOpts is how a deployed release is verified: publish on a pass (a
// deploy) or audit only (a rollback, whose data was put back), and whether
// a failed verification keeps its audit branch.
type verifyOpts struct {
	publish, keepAudit bool
}

// verify verifies rel in the applied environment, inside it (the default)
// or from this runner (direct), with write-audit-publish.
func (m *Lakehouse) verify(ctx context.Context, rec *runreport.Recorder, t terraform.Target, rel release.Record, direct bool, o verifyOpts) (*GateReport, *promotion.Audit, error) {
	if direct {
		return m.verifyDirect(ctx, rec, t, rel, o)
	}
	return m.verifyInEnvironment(ctx, rec, t, rel, o)
}

// verifyDirect runs the verification from this runner against the
// environment (its catalog must be reachable): the wap commands and the
// smoke run in the release's runtime image, the gate in its gate image,
// with the environment's Terraform outputs and credentials.
func (m *Lakehouse) verifyDirect(ctx context.Context, rec *runreport.Recorder, t terraform.Target, rel release.Record, o verifyOpts) (*GateReport, *promotion.Audit, error) {
	env := t.Env()
	var vars map[string]string
	if err := rec.Run(ctx, "read outputs", "dagger call output --env "+env.Name(), func(ctx context.Context) (string, error) {
		var err error
		vars, err = m.runtimeVars(ctx, t)
		return fmt.Sprintf("%d runtime settings", len(vars)), plain(err)
	}); err != nil {
		return nil, nil, err
	}
	runner := func(image string) *dagger.Container { return m.envRunner(t, vars, image) }
	v := &auditedVerification{
		rec: rec, rel: rel, wap: wapIn(runner(rel.RuntimeImage)), publish: o.publish, keep: o.keepAudit,
		smokeStep: "smoke materialization", gateStep: "quality gate",
		smoke: func(ctx context.Context, branch string) (string, error) {
			code, log, err := smokeRun(ctx, runner(rel.RuntimeImage), "--audit-branch", branch)
			if err != nil {
				return "", plain(err)
			}
			if code != 0 {
				return "", fmt.Errorf("the smoke run failed (exit %d):\n%s", code, lastLines(log, 30))
			}
			return "every asset materialized on " + branch, nil
		},
		gate: func(ctx context.Context, branch string) (*GateReport, string, error) {
			g, err := runGate(ctx, runner(rel.GateImage), env.Name(), &rel, env.Promotion().WarningsBlock, "--branch", branch)
			return g, "", plain(err)
		},
	}
	return v.run(ctx)
}
