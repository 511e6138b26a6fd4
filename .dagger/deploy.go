package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/runreport"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// Deploy deploys one release to an environment: it refuses during the
// environment's freeze windows and unless the release passed the quality
// gate in the environment's upstream (the upstream's release ledger, or
// --evidence given by hand, verified the same way) long enough ago (its
// soak), saying when the next allowed time is; plans the environment with
// the release's image digests, applies exactly that plan behind the destroy
// guard, verifies the release (a smoke materialization and the gate) and
// records the verdict in the environment's ledger beside its state. It
// never rebuilds: the digests are the release's. It prints the run report
// and fails unless every step passed.
// +cache="never"
func (m *Lakehouse) Deploy(
	ctx context.Context,
	// The environment to deploy to.
	env string,
	// The release: the record publish returned (release.json).
	releaseRecord *dagger.File,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// Upstream evidence given by hand (a ledger entry); verified like the
	// ledger's. Default: the upstream environment's ledger.
	// +optional
	evidence *dagger.File,
	// Resource addresses whose delete or replace this deploy may apply.
	// +optional
	allowDestroy []string,
	// Verify from this runner (smoke run and gate reach the environment's
	// catalog directly) instead of with the release's tasks inside the
	// environment (the default: a CI runner cannot reach a deployed catalog).
	// +optional
	direct bool,
	// Deploy despite the environment's freeze windows and soak time (never
	// without upstream evidence), for this reason, recorded in the ledger
	// and the run report.
	// +optional
	breakGlass string,
	// Who asks for --break-glass (a name or e-mail), recorded with it.
	// +optional
	breakGlassBy string,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	glass, err := promotion.NewBreakGlass(breakGlass, breakGlassBy)
	if err != nil {
		return "", fmt.Errorf("deploy %s: %w", env, err)
	}
	rel, err := gateRelease(ctx, releaseRecord)
	if err != nil {
		return "", fmt.Errorf("deploy %s: %w", env, err)
	}
	return m.deploy(ctx, env, cloudProvider, *rel, evidence, allowDestroy, direct, glass)
}

// Promote deploys to --to the release that last passed in --from (and was
// not revoked since): what reached --from is byte-for-byte what reaches --to.
// Like deploy it refuses during --to's freeze windows and before the
// release has soaked in --from, saying when the next allowed time is.
// +cache="never"
func (m *Lakehouse) Promote(
	ctx context.Context,
	// The environment the release passed in (the target's upstream).
	from string,
	// The environment to deploy to.
	to string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// Resource addresses whose delete or replace this deploy may apply.
	// +optional
	allowDestroy []string,
	// Verify from this runner instead of tasks inside the environment.
	// +optional
	direct bool,
	// Promote despite --to's freeze windows and soak time (never without
	// evidence in --from), for this reason, recorded in the ledger and the
	// run report.
	// +optional
	breakGlass string,
	// Who asks for --break-glass (a name or e-mail), recorded with it.
	// +optional
	breakGlassBy string,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	glass, err := promotion.NewBreakGlass(breakGlass, breakGlassBy)
	if err != nil {
		return "", fmt.Errorf("promote %s: %w", to, err)
	}
	t, err := m.target(ctx, to, cloudProvider)
	if err != nil {
		return "", err
	}
	if up := t.Env().Promotion().Upstream; up != from {
		return "", fmt.Errorf("promote: %s promotes from %q (promotion_upstream in %s), not from %s", to, up, t.Env().TfvarsFile(), from)
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return "", fmt.Errorf("promote %s: %w", t, err)
	}
	entries, err := m.readLedger(ctx, m.ledgerClient(t), m.stateLedger(t, from))
	if err != nil {
		return "", fmt.Errorf("promote: %w", err)
	}
	parsed, err := promotion.ParseEntries(entries)
	if err != nil {
		return "", fmt.Errorf("promote: %w", err)
	}
	latest, err := promotion.Latest(parsed)
	if err != nil {
		return "", fmt.Errorf("promote from %s: %w; deploy a release to %s first (`deploy --env %s --release-record release.json`)", from, err, from, from)
	}
	return m.deploy(ctx, to, cloudProvider, latest.Entry.Release, nil, allowDestroy, direct, glass)
}

// stateLedger is an environment's ledger beside its state, in the state
// bucket of t's committed backend file (its cloud's; a promotion chain stays
// in one cloud, so an upstream's ledger is there too).
func (m *Lakehouse) stateLedger(t terraform.Target, env string) ledgerAt {
	return ledgerAt{
		Store:   t.Backend().Type,
		Backend: srcPath + "/" + t.Cloud().String() + "/" + terraform.BackendFile,
		Prefix:  promotion.LedgerPrefix(terraform.StateProject, env),
	}
}

// ledgerClient is a container that holds t's cloud credentials (secrets
// only) and its backend file, for the ledger tool.
func (m *Lakehouse) ledgerClient(t terraform.Target) *dagger.Container {
	backend := t.Cloud().String() + "/" + terraform.BackendFile
	return m.withCredentials(dag.Container().From(m.TerraformImage), t.Cloud()).
		WithFile(srcPath+"/"+backend, m.Source.File(backend))
}

func (m *Lakehouse) deploy(ctx context.Context, env, cloud string, rel release.Record, evidence *dagger.File, allowDestroy []string, direct bool, glass *promotion.BreakGlass) (string, error) {
	t, err := m.target(ctx, env, cloud)
	if err != nil {
		return "", err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return "", fmt.Errorf("deploy %s: %w", t, err)
	}
	rec := runreport.New("deploy", env, nil)
	rec.Fact("release", rel.ID+" (commit "+rel.Commit[:12]+")")
	rec.Fact("runtime image", rel.RuntimeImage)
	rec.Fact("gate image", rel.GateImage)
	// The calendar needs no evidence: a freeze refuses before anything is
	// read, planned or locked.
	if err := rec.Run(ctx, "promotion calendar", "", func(context.Context) (string, error) {
		d, err := promotion.CheckCalendar(promotion.Request{Target: t.Env(), Release: rel, Now: time.Now().UTC(), BreakGlass: glass})
		if err != nil {
			return "", err
		}
		if d.BreakGlass != nil {
			rec.Fact("break glass", breakGlassFact(d.BreakGlass))
		}
		return calendarDetail(d), nil
	}); err != nil {
		return "", deployFailed(rec, err)
	}
	var (
		decision promotion.Decision
		plan     *Plan
	)
	// Evidence and plan are independent: run them together.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return rec.Run(gctx, "upstream evidence", "", func(ctx context.Context) (string, error) {
			d, err := m.evidence(ctx, t, rel, evidence, glass)
			if err != nil {
				return "", err
			}
			decision = d
			detail := "first environment: releases come from publish"
			if d.Upstream != nil {
				detail = fmt.Sprintf("%s entry %d passed", d.Upstream.Entry.Environment, d.Upstream.Seq)
				if d.SoakFrom != nil && t.Env().Promotion().MinSoak > 0 {
					detail += fmt.Sprintf(", held since entry %d (%s)", d.SoakFrom.Seq, d.SoakFrom.Entry.RecordedAt)
				}
			}
			return detail + overrides(d.BreakGlass), nil
		})
	})
	g.Go(func() error {
		return rec.Run(gctx, "plan", "dagger call plan --env "+env+" --release-record release.json summary", func(ctx context.Context) (string, error) {
			p, err := m.plan(ctx, t, &rel)
			if err != nil {
				return "", plain(err)
			}
			plan = p
			return "state " + p.StateKey, nil
		})
	})
	// The verification tool builds while the plan runs, so a broken build
	// stops the deploy before anything changes; a failed plan abandons it.
	toolCtx, cancelTool := context.WithCancel(ctx)
	defer cancelTool()
	toolBuilt := make(chan error, 1)
	if !direct {
		go func() {
			_, err := m.goTool("envrun").Sync(toolCtx)
			toolBuilt <- err
		}()
	}
	if err := g.Wait(); err != nil {
		return "", deployFailed(rec, err)
	}
	if !direct {
		if err := rec.Run(ctx, "verification tool", "", func(context.Context) (string, error) {
			if err := <-toolBuilt; err != nil {
				return "", plain(err)
			}
			return "cmd/envrun ready", nil
		}); err != nil {
			return "", deployFailed(rec, err)
		}
	}
	if decision.Upstream != nil {
		rec.Fact("evidence", fmt.Sprintf("%s entry %d", decision.Upstream.Entry.Environment, decision.Upstream.Seq))
	}
	if decision.BreakGlass != nil {
		rec.Fact("break glass", breakGlassFact(decision.BreakGlass))
	}
	var gate *GateReport
	guarded := false
	verifyErr := rec.Run(ctx, "apply", "", func(ctx context.Context) (string, error) {
		out, err := plan.Apply(ctx, allowDestroy)
		var refused *terraform.RefusedError
		guarded = errors.As(err, &refused)
		return lastLines(out, 1), plain(err)
	})
	if guarded {
		// The guard refused before terraform ran: nothing changed, nothing
		// to record against the release.
		return "", deployFailed(rec, verifyErr)
	}
	if verifyErr == nil {
		if direct {
			gate, verifyErr = m.verifyDirect(ctx, rec, t, rel)
		} else {
			gate, verifyErr = m.verifyInEnvironment(ctx, rec, t, rel)
		}
	}
	entry := promotion.Entry{
		SchemaVersion: promotion.EntrySchemaVersion,
		Kind:          promotion.DeployEntry,
		Environment:   env,
		Release:       rel,
		Verdict:       promotion.Passed,
		BreakGlass:    decision.BreakGlass,
		RecordedAt:    time.Now().UTC().Format(time.RFC3339),
	}
	if gate != nil {
		entry.Gate = &promotion.GateEvidence{Outcome: gate.Outcome, Report: json.RawMessage(gate.Report)}
		if r, err := gate.parsed(); err == nil {
			entry.Gate.FinishedAt = r.FinishedAt
		}
	}
	if verifyErr != nil {
		entry.Verdict, entry.Reason = promotion.Failed, errText(verifyErr)
	}
	if decision.Upstream != nil {
		entry.Upstream = &promotion.UpstreamRef{Environment: decision.Upstream.Entry.Environment, Seq: decision.Upstream.Seq, ReleaseID: rel.ID}
	}
	_ = rec.Run(ctx, "record", "", func(ctx context.Context) (string, error) {
		report := rec.Finish()
		if raw, err := report.JSON(); err == nil {
			entry.Run = raw
		}
		return m.appendLedger(ctx, m.ledgerClient(t), m.stateLedger(t, env), entry)
	})
	report := rec.Finish()
	if report.Verdict != runreport.OK {
		return "", errors.New(report.Markdown())
	}
	return report.Markdown(), nil
}

// verifyDirect runs the smoke materialization and the gate from this
// runner against the environment (its catalog must be reachable), with the
// release's images and the environment's Terraform outputs and credentials.
func (m *Lakehouse) verifyDirect(ctx context.Context, rec *runreport.Recorder, t terraform.Target, rel release.Record) (*GateReport, error) {
	env := t.Env()
	var vars map[string]string
	if err := rec.Run(ctx, "read outputs", "dagger call output --env "+env.Name(), func(ctx context.Context) (string, error) {
		var err error
		vars, err = m.runtimeVars(ctx, t)
		return fmt.Sprintf("%d runtime settings", len(vars)), plain(err)
	}); err != nil {
		return nil, err
	}
	runner := func(image string) *dagger.Container { return m.envRunner(t, vars, image) }
	if err := rec.Run(ctx, "smoke materialization", "", func(ctx context.Context) (string, error) {
		code, log, err := smokeRun(ctx, runner(rel.RuntimeImage))
		if err != nil {
			return "", plain(err)
		}
		if code != 0 {
			return "", fmt.Errorf("the smoke run failed (exit %d):\n%s", code, lastLines(log, 30))
		}
		return "every asset materialized", nil
	}); err != nil {
		return nil, err
	}
	var gate *GateReport
	err := rec.Run(ctx, "quality gate", "", func(ctx context.Context) (string, error) {
		g, err := runGate(ctx, runner(rel.GateImage), env.Name(), &rel, env.Promotion().WarningsBlock)
		if err != nil {
			return "", plain(err)
		}
		gate = g
		return "outcome " + g.Outcome, plain(g.RequirePass())
	})
	return gate, err
}

// deployFailed finishes the report of a deploy that stopped before it
// changed anything worth recording.
func deployFailed(rec *runreport.Recorder, _ error) error {
	return errors.New(rec.Finish().Markdown())
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// envRunner is a container of image that runs against a deployed
// environment from this runner: the environment's Terraform runtime
// settings, its committed env file and its cloud credentials (secrets).
func (m *Lakehouse) envRunner(t terraform.Target, vars map[string]string, image string) *dagger.Container {
	env := t.Env()
	ctr := dag.Container().From(image)
	if m.RegistryPassword != nil {
		ctr = dag.Container().WithRegistryAuth(m.RegistryHost, m.RegistryUsername, m.RegistryPassword).From(image)
	}
	for _, k := range sortedKeys(vars) {
		ctr = ctr.WithEnvVariable(k, vars[k])
	}
	return m.withCredentials(ctr, t.Cloud()).
		WithFile(appDir+"/.env."+env.Name(), m.Source.File(env.EnvFile()), dagger.ContainerWithFileOpts{Owner: appOwner})
}

// runtimeVars reads the environment's runtime settings from its outputs.
func (m *Lakehouse) runtimeVars(ctx context.Context, t terraform.Target) (map[string]string, error) {
	out, err := m.session(t).WithExec(t.OutputJSON()).Stdout(ctx)
	if err != nil {
		return nil, err
	}
	return terraform.RuntimeEnv([]byte(out))
}
