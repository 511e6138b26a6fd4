package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/runreport"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/wap"
)

// Write-audit-publish: a release's verification writes to an audit branch
// named after the release, the gate judges exactly that branch's head, and
// only a pass publishes those snapshots; a fail, an error or a cancelled
// run publishes nothing and drops the branch (or keeps it, --keep-audit).
// The commands are dagster/lakehouse/wap's (`python -m lakehouse.wap`),
// run where the environment's catalog is reachable.

// wapRunner runs one `python -m lakehouse.wap ARGS` and returns what it
// printed on stdout, the tail of its stderr and its exit code.
type wapRunner func(ctx context.Context, args ...string) (stdout, stderr string, code int, err error)

// discardTimeout bounds the cleanup of a failed or cancelled verification,
// which runs on a context of its own.
const discardTimeout = 10 * time.Minute

// wapStatePath is where a publish keeps its plan (to resume an interrupted one).
const wapStatePath = "/tmp/lakehouse-wap-publish.json"

// wapIn runs the commands in ctr (the runtime image set up to reach the
// environment's catalog: a stack's runner or a direct one).
func wapIn(ctr *dagger.Container) wapRunner {
	return func(ctx context.Context, args ...string) (string, string, int, error) {
		c := ctr.
			WithEnvVariable("LAKEHOUSE_RUN_ID", runID()).
			WithExec(append([]string{"python", "-m", "lakehouse.wap"}, args...), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		return outcomeOf(ctx, c)
	}
}

// outcomeOf reads an Expect-any exec's stdout, stderr tail and exit code.
func outcomeOf(ctx context.Context, c *dagger.Container) (string, string, int, error) {
	code, err := c.ExitCode(ctx)
	if err != nil {
		return "", "", 0, err
	}
	out, err := c.Stdout(ctx)
	if err != nil {
		return "", "", 0, err
	}
	stderr, _ := c.Stderr(ctx)
	return out, lastLines(stderr, 20), code, nil
}

// auditedVerification is one release's verification with write-audit-publish.
type auditedVerification struct {
	rec *runreport.Recorder
	rel release.Record
	wap wapRunner
	// smoke writes the release's smoke run to the branch; nil when the
	// environment has no smoke run (noSmoke says why).
	smoke   func(ctx context.Context, branch string) (string, error)
	noSmoke string
	// gate judges the branch's head; its detail (e.g. where the report
	// is) goes to the report's step.
	gate func(ctx context.Context, branch string) (*GateReport, string, error)
	// publish: publish on a pass (false: audit only, as a rollback's
	// verification does: the data was put back, nothing new is published).
	publish bool
	// keep keeps the branch of a failed verification (--keep-audit).
	keep bool
	// Step names and rerun commands of the smoke run and the gate.
	smokeStep, gateStep   string
	smokeRerun, gateRerun string
}

// run verifies the release: begin, smoke, status, gate, publish (each a
// step of the report), and on any failure or cancellation discards the
// branch. It returns the gate's report (when the gate ran) and what
// happened to the data (nil when no branch was made).
func (v *auditedVerification) run(ctx context.Context) (gate *GateReport, audit *promotion.Audit, err error) {
	branch := wap.AuditBranch(v.rel)
	v.rec.Fact("audit branch", branch)
	made := false
	audit = &promotion.Audit{Branch: branch}
	defer func() {
		if !made {
			audit = nil
			return
		}
		if err != nil || audit.BranchFate == "" {
			v.drop(ctx, audit)
		}
	}()
	if err = v.rec.Run(ctx, "audit branch", "", func(ctx context.Context) (string, error) {
		d, err := v.call(ctx, wap.Begin, "begin", "--branch", branch)
		// A refused begin (e.g. the branch is kept from an earlier run)
		// made nothing to drop; an error may have made the branch.
		made = err == nil || !wap.Refused(err)
		if err != nil {
			return "", err
		}
		audit.Backend = deref(d.Backend)
		audit.Base = d.Base.Snapshots().Strings()
		v.rec.Fact("audit base", d.Base.Snapshots().Text())
		return "made " + branch + " from the published state (" + deref(d.Backend) + ")", nil
	}); err != nil {
		return nil, audit, err
	}
	if v.smoke == nil {
		v.rec.Skip(v.smokeStep, v.noSmoke)
	} else if err = v.rec.Run(ctx, v.smokeStep, v.smokeRerun, func(ctx context.Context) (string, error) {
		return v.smoke(ctx, branch)
	}); err != nil {
		return nil, audit, err
	}
	var status *wap.Document
	if err = v.rec.Run(ctx, "audit head", "", func(ctx context.Context) (string, error) {
		d, err := v.call(ctx, wap.Status, "status", "--branch", branch)
		if err != nil {
			return "", err
		}
		status = d
		v.rec.Fact("judged head", d.Head.Snapshots().Text())
		return fmt.Sprintf("%d tables changed on %s", len(d.Changed), branch), nil
	}); err != nil {
		return nil, audit, err
	}
	if err = v.rec.Run(ctx, v.gateStep, v.gateRerun, func(ctx context.Context) (string, error) {
		g, where, err := v.gate(ctx, branch)
		if err != nil {
			return "", err
		}
		gate = g
		detail := "outcome " + g.Outcome + " on " + branch
		if where != "" {
			detail += " (" + where + ")"
		}
		return detail, plain(g.RequirePass())
	}); err != nil {
		return gate, audit, err
	}
	judged, err := gate.judged(status)
	if err != nil {
		_ = v.rec.Run(ctx, "publish", "", func(context.Context) (string, error) { return "", err })
		return gate, audit, err
	}
	audit.Judged = judged.Strings()
	if !v.publish {
		return gate, audit, nil
	}
	err = v.rec.Run(ctx, "publish", "", func(ctx context.Context) (string, error) {
		d, err := v.call(ctx, wap.Publish, "publish", "--branch", branch, "--expect", judged.JSON(), "--state", wapStatePath)
		if d != nil && appliedAny(d.Steps) && err != nil {
			// Interrupted between tables: what is published is recorded,
			// and the branch stays for the publish to resume.
			audit.BranchFate, audit.Applied = promotion.BranchLeft, applied(d.Steps)
			return "", fmt.Errorf("%w; the publish was interrupted after %v: the branch %s is kept; resume with `python -m lakehouse.wap publish --branch %s --expect '%s'`", err, audit.Applied, branch, branch, judged.JSON())
		}
		if err != nil {
			return "", err
		}
		audit.Published = d.Published.Snapshots().Strings()
		audit.Method = deref(d.Method)
		audit.BranchFate = promotion.BranchPublished
		v.rec.Fact("published", d.Published.Snapshots().Text())
		return "published " + judged.Text() + " (" + deref(d.Method) + ")", nil
	})
	return gate, audit, err
}

// judged is what the gate judged on the branch: the snapshots a publish
// may expect (the branch head status reported, every changed table).
func (g *GateReport) judged(status *wap.Document) (wap.Snapshots, error) {
	r, err := g.parsed()
	if err != nil {
		return nil, err
	}
	return wap.Expectation(r, status)
}

// drop discards the branch of a verification that did not publish, on a
// context of its own: a cancelled pipeline still cleans up.
func (v *auditedVerification) drop(ctx context.Context, audit *promotion.Audit) {
	branch := audit.Branch
	if audit.BranchFate == promotion.BranchLeft {
		return
	}
	if v.keep {
		audit.BranchFate = promotion.BranchKept
		v.rec.Skip("discard audit branch", "--keep-audit: "+branch+" is kept (nothing was published); remove it with `python -m lakehouse.wap discard --branch "+branch+"`")
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discardTimeout)
	defer cancel()
	audit.BranchFate = promotion.BranchLeft
	_ = v.rec.Run(cctx, "discard audit branch", "", func(ctx context.Context) (string, error) {
		d, err := v.call(ctx, wap.Discard, "discard", "--branch", branch)
		if err != nil {
			return "", fmt.Errorf("%w; remove the branch by hand: `python -m lakehouse.wap discard --branch %s`", err, branch)
		}
		audit.BranchFate = promotion.BranchDiscarded
		if !v.publish {
			return "dropped " + branch, nil
		}
		return fmt.Sprintf("dropped %s (existed: %t); nothing was published", branch, d.Removed), nil
	})
}

// call runs one command and reads its document.
func (v *auditedVerification) call(ctx context.Context, cmd wap.Command, args ...string) (*wap.Document, error) {
	return wapCall(ctx, v.wap, cmd, args...)
}

// wapCall runs one command with run and reads its document; a refusal or
// error carries the command's own reason, a run that printed no document
// its stderr.
func wapCall(ctx context.Context, run wapRunner, cmd wap.Command, args ...string) (*wap.Document, error) {
	out, stderr, code, err := run(ctx, args...)
	if err != nil {
		return nil, plain(err)
	}
	d, err := wap.Parse(cmd, []byte(out), code)
	var wapErr *wap.Error
	if err != nil && !errors.As(err, &wapErr) && stderr != "" {
		err = fmt.Errorf("%w\n%s", err, stderr)
	}
	return d, err
}

func appliedAny(steps []wap.Step) bool { return len(applied(steps)) > 0 }

func applied(steps []wap.Step) map[string]string {
	out := map[string]string{}
	for _, s := range steps {
		if s.Result == "applied" {
			out[s.Table] = fmt.Sprint(s.Target)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
