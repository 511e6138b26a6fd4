package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/runreport"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/wap"
)

// wapRollbackState is where a data rollback keeps its plan (to resume).
const wapRollbackState = "/tmp/lakehouse-wap-rollback.json"

// Rollback rolls an environment's code and data back together to an
// earlier release: by default the last release before the current one
// that passed there and was not revoked since (its ledger says which).
// It first shows what it will change (each table's snapshot ids and rows
// between them, the images, the Terraform plan) and refuses without
// --confirm where the environment's file asks for approval
// (promotion_requires_approval). Then it redeploys the release's recorded
// digests through deploy's plan → guard → exact apply (never a rebuild),
// resets each table's published state to the snapshots recorded with that
// release (a table whose schema changed since is refused by name unless
// --allow-schema-change names it), verifies the release on an audit branch
// that publishes nothing, and records a rollback entry in the ledger with
// the snapshots it moved from: `rollback --to <the replaced release>`
// moves forward again. Promotion never admits a release on a rollback.
// +cache="never"
func (m *Lakehouse) Rollback(
	ctx context.Context,
	// The environment to roll back.
	env string,
	// The release to go back to (its id, from the ledger or release.json).
	// Default: the last earlier release that passed in env and was not
	// revoked since.
	// +optional
	to string,
	// Go ahead where env's file asks for approval, after reading the plan.
	// +optional
	confirm bool,
	// Tables rolled back although their schema changed since the target
	// (readers of the newer columns break).
	// +optional
	allowSchemaChange []string,
	// Resource addresses whose delete or replace the rollback may apply.
	// +optional
	allowDestroy []string,
	// Why, recorded in the ledger.
	// +optional
	reason string,
	// Who rolls back (a name or e-mail), recorded in the ledger.
	// +optional
	by string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// Run the data commands and the verification from this runner instead
	// of tasks inside the environment.
	// +optional
	direct bool,
	// Keep the verification's audit branch when the verification fails.
	// +optional
	keepAudit bool,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	t, err := m.target(ctx, env, cloudProvider)
	if err != nil {
		return "", err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return "", fmt.Errorf("rollback %s: %w", t, err)
	}
	rec := runreport.New("rollback", env, nil)
	var rt promotion.RollbackTarget
	if err := rec.Run(ctx, "rollback target", "", func(ctx context.Context) (string, error) {
		raw, err := m.readLedger(ctx, m.ledgerClient(t), m.stateLedger(t, env))
		if err != nil {
			return "", plain(err)
		}
		entries, err := promotion.ParseEntries(raw)
		if err != nil {
			return "", err
		}
		if rt, err = promotion.ChooseRollback(env, entries, to); err != nil {
			return "", err
		}
		target := rt.Target.Entry.Release
		rec.Fact("current release", rt.Current.ID+" (entry "+strconv.Itoa(rt.CurrentSeq)+")")
		rec.Fact("target release", target.ID+" (entry "+strconv.Itoa(rt.Target.Seq)+", commit "+target.Commit[:12]+")")
		rec.Fact("images", "runtime "+rt.Current.RuntimeImage+" → "+target.RuntimeImage+"; gate "+rt.Current.GateImage+" → "+target.GateImage)
		if rt.Forward {
			return "forward again to " + target.ID + ", which an earlier rollback replaced", nil
		}
		return "back to " + target.ID, nil
	}); err != nil {
		return "", deployFailed(rec, err)
	}
	snapshots, err := wap.FromStrings(rt.Snapshots)
	if err != nil {
		return "", fmt.Errorf("rollback %s: the ledger's snapshots of release %s: %w", env, rt.Target.Entry.Release.ID, err)
	}
	target := rt.Target.Entry.Release
	toArgs := append([]string{"--to", snapshots.JSON()}, schemaArgs(allowSchemaChange)...)

	// Show the whole change before anything moves: the Terraform plan of
	// the target's digests and the data plan, side by side.
	var plan *Plan
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return rec.Run(gctx, "plan", "dagger call plan --env "+env+" --release-record release.json summary", func(ctx context.Context) (string, error) {
			p, err := m.plan(ctx, t, &target)
			if err != nil {
				return "", plain(err)
			}
			plan = p
			rec.Fact("terraform plan", p.Summary)
			return "state " + p.StateKey, nil
		})
	})
	g.Go(func() error {
		return rec.Run(gctx, "data plan", "", func(ctx context.Context) (string, error) {
			run, err := m.wapRunnerFor(ctx, t, direct, rt.Current.RuntimeImage, "lakehouse-rollback-"+target.ID)
			if err != nil {
				return "", err
			}
			d, err := wapCall(ctx, run, wap.PlanRollback, append([]string{"plan-rollback"}, toArgs...)...)
			if d != nil && d.Text != nil {
				rec.Fact("data plan", *d.Text)
			}
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d tables move back to %s", countMoves(d.Changes), snapshots.Text()), nil
		})
	})
	if err := g.Wait(); err != nil {
		return "", deployFailed(rec, err)
	}
	if err := rec.Run(ctx, "confirmation", "dagger call rollback --env "+env+" --to "+target.ID+" --confirm", func(context.Context) (string, error) {
		if err := promotion.NeedsConfirmation(t.Env().Promotion().RequiresApproval, confirm); err != nil {
			return "", err
		}
		if confirm {
			return "confirmed", nil
		}
		return "not required by " + t.Env().TfvarsFile(), nil
	}); err != nil {
		return "", deployFailed(rec, err)
	}
	return m.rollBack(ctx, rec, t, rt, plan, toArgs, allowDestroy, direct, keepAudit, reason, by)
}

// rollBack applies the target's plan, moves the data and verifies, then
// records the rollback entry.
func (m *Lakehouse) rollBack(ctx context.Context, rec *runreport.Recorder, t terraform.Target, rt promotion.RollbackTarget, plan *Plan, toArgs, allowDestroy []string, direct, keepAudit bool, reason, by string) (string, error) {
	target := rt.Target.Entry.Release
	if !direct {
		if err := rec.Run(ctx, "verification tool", "", func(ctx context.Context) (string, error) {
			_, err := m.goTool("envrun").Sync(ctx)
			return "cmd/envrun ready", plain(err)
		}); err != nil {
			return "", deployFailed(rec, err)
		}
	}
	guarded := false
	failure := rec.Run(ctx, "apply", "", func(ctx context.Context) (string, error) {
		out, err := plan.Apply(ctx, allowDestroy)
		var refused *terraform.RefusedError
		guarded = errors.As(err, &refused)
		return lastLines(out, 1), plain(err)
	})
	if guarded {
		return "", deployFailed(rec, failure)
	}
	rb := &promotion.Rollback{Replaced: rt.Current, By: by, Reason: reason}
	if rb.Reason == "" {
		rb.Reason = "rollback from release " + rt.Current.ID + " to " + target.ID + " (no reason given)"
	}
	if failure == nil {
		failure = rec.Run(ctx, "data rollback", "", func(ctx context.Context) (string, error) {
			// After the apply the environment's tasks run the target's image.
			run, err := m.wapRunnerFor(ctx, t, direct, target.RuntimeImage, "lakehouse-rollback-"+target.ID)
			if err != nil {
				return "", err
			}
			d, err := wapCall(ctx, run, wap.Rollback, append(append([]string{"rollback"}, toArgs...), "--state", wapRollbackState)...)
			if d != nil {
				rb.MovedFrom = d.MovedFrom.Strings()
				rb.Tables = moves(d.Changes)
			}
			if err != nil {
				return "", err
			}
			rec.Fact("moved from", d.MovedFrom.Text())
			rec.Fact("published", d.Published.Snapshots().Text())
			return fmt.Sprintf("%d tables moved (%s); forward again: `dagger call rollback --env %s --to %s`", len(rb.Tables), deref(d.Method), t.Env().Name(), rt.Current.ID), nil
		})
	}
	var (
		gate  *GateReport
		audit *promotion.Audit
	)
	if failure == nil {
		gate, audit, failure = m.verify(ctx, rec, t, target, direct, verifyOpts{publish: false, keepAudit: keepAudit})
	}
	entry := promotion.Entry{
		SchemaVersion: promotion.EntrySchemaVersion,
		Kind:          promotion.RollbackEntry,
		Environment:   t.Env().Name(),
		Release:       target,
		Verdict:       promotion.Passed,
		Rollback:      rb,
		Audit:         audit,
		RecordedAt:    time.Now().UTC().Format(time.RFC3339),
	}
	if gate != nil {
		entry.Gate = &promotion.GateEvidence{Outcome: gate.Outcome, Report: []byte(gate.Report)}
		if r, err := gate.parsed(); err == nil {
			entry.Gate.FinishedAt = r.FinishedAt
		}
	}
	if failure != nil {
		entry.Verdict, entry.Reason = promotion.Failed, errText(failure)
	}
	_ = rec.Run(ctx, "record", "", func(ctx context.Context) (string, error) {
		if raw, err := rec.Finish().JSON(); err == nil {
			entry.Run = raw
		}
		return m.appendLedger(ctx, m.ledgerClient(t), m.stateLedger(t, t.Env().Name()), entry)
	})
	report := rec.Finish()
	if report.Verdict != runreport.OK {
		return "", errors.New(report.Markdown())
	}
	return report.Markdown(), nil
}

// wapRunnerFor runs lakehouse.wap where the environment's catalog is
// reachable: a task of the environment's runtime image (through envrun) or,
// direct, image from this runner.
func (m *Lakehouse) wapRunnerFor(ctx context.Context, t terraform.Target, direct bool, image, tag string) (wapRunner, error) {
	if direct {
		vars, err := m.runtimeVars(ctx, t)
		if err != nil {
			return nil, plain(err)
		}
		return wapIn(m.envRunner(t, vars, image)), nil
	}
	outputs, targets, err := m.envTargets(ctx, t)
	if err != nil {
		return nil, plain(err)
	}
	if !targets.HasSmoke() {
		return nil, fmt.Errorf("%s has no Dagster runtime (smoke_run is null), whose image moves the tables: enable_dagster, or use --direct", t)
	}
	client := m.envrunClient(t, outputs)
	return func(ctx context.Context, args ...string) (string, string, int, error) {
		c := client.WithExec(append([]string{envrunPath, "wap", "--outputs", outputsPath, "--started-by", tag, "--"}, args...),
			dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		return outcomeOf(ctx, c)
	}, nil
}

func schemaArgs(tables []string) []string {
	if len(tables) == 0 {
		return nil
	}
	return append([]string{"--allow-schema-change"}, tables...)
}

func countMoves(changes []wap.Change) int { return len(moves(changes)) }

// moves are the tables a rollback moves, each from its current snapshot.
func moves(changes []wap.Change) []promotion.TableRollback {
	var out []promotion.TableRollback
	for _, c := range changes {
		if c.Action != "rollback" || c.Current == nil {
			continue
		}
		out = append(out, promotion.TableRollback{Table: c.Table, FromSnapshot: strconv.FormatInt(*c.Current, 10), ToSnapshot: strconv.FormatInt(c.Target, 10)})
	}
	return out
}
